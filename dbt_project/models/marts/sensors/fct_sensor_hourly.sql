{#-
  Sensor readings aggregated per sensor and UTC hour (within the factory day, so an hour cut by the factory-day
  boundary in a timezone with a half-hour offset appears once per day).
  Incremental by factory day (delete+insert on production_date, see dbt_project.yml); window from --vars.
-#}
with

readings as (

    select * from {{ ref('stg_mes__sensor_readings') }}
    where {{ production_date_window() }}

),

-- each sensor's usual reading interval that day: the median gap between consecutive readings
intervals as (

    select sensor_id, production_date, median(gap_s) as interval_s
    from (
        select
            sensor_id,
            production_date,
            {{ epoch_seconds('reading_ts') }} - {{ epoch_seconds(
                'lag(reading_ts) over (partition by sensor_id, production_date order by reading_ts)'
            ) }} as gap_s
        from readings
    )
    where gap_s > 0
    group by sensor_id, production_date

),

hourly as (

    select
        sensor_id,
        machine_id,
        measure,
        unit,
        -- truncated in UTC whatever the session zone
        {{ utc_hour_start('reading_ts') }} as hour,
        production_date,
        count(*) as reading_count,
        min(reading_value) as min_value,
        max(reading_value) as max_value,
        avg(reading_value) as mean_value,
        stddev_samp(reading_value) as stddev_value

    from readings
    group by all

),

-- every hour of the factory day for every sensor that reported that day, so a silent hour has a row too
day_hours as (

    select
        production_date,
        {{ hour_series(utc_hour_start('min(start_ts)'), 'max(end_ts) - interval 1 hour') }} as hour
    from {{ ref('stg_mes__shifts') }}
    where {{ production_date_window() }}
    group by production_date

),

sensor_hours as (

    select
        sensors.sensor_id,
        sensors.machine_id,
        sensors.measure,
        sensors.unit,
        day_hours.hour,
        day_hours.production_date
    from (select distinct sensor_id, machine_id, measure, unit, production_date from hourly) as sensors
    inner join day_hours on day_hours.production_date = sensors.production_date
    union
    select sensor_id, machine_id, measure, unit, hour, production_date from hourly

)

select
    sensor_hours.sensor_id,
    sensor_hours.machine_id,
    sensor_hours.measure,
    sensor_hours.unit,
    sensor_hours.hour,
    sensor_hours.production_date,
    coalesce(hourly.reading_count, 0) as reading_count,
    hourly.min_value,
    hourly.max_value,
    hourly.mean_value,
    hourly.stddev_value,
    -- minutes of the hour without data: the hour less what the readings cover at the usual interval
    cast(greatest(0, 60 - coalesce(hourly.reading_count, 0) * intervals.interval_s / 60.0) as double)
        as gap_minutes,
    cast(intervals.interval_s as double) as interval_s
from sensor_hours
left join hourly
    on hourly.sensor_id = sensor_hours.sensor_id
        and hourly.production_date = sensor_hours.production_date
        and hourly.hour = sensor_hours.hour
left join intervals
    on intervals.sensor_id = sensor_hours.sensor_id
        and intervals.production_date = sensor_hours.production_date
