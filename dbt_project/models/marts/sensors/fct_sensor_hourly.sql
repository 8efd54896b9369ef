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

hourly as (

    select
        sensor_id,
        machine_id,
        measure,
        unit,
        -- truncated in UTC whatever the session time zone: timestamptz -> UTC wall clock -> hour -> timestamptz
        timezone('UTC', date_trunc('hour', timezone('UTC', reading_ts))) as hour,
        production_date,
        count(*) as reading_count,
        min(reading_value) as min_value,
        max(reading_value) as max_value,
        avg(reading_value) as mean_value,
        stddev_samp(reading_value) as stddev_value

    from readings
    group by all

)

select * from hourly
