{#- Incremental by factory day (delete+insert on production_date, see dbt_project.yml);
    window from --vars. -#}
with

measurements as (

    select * from {{ ref('stg_mes__quality_measurements') }}
    where {{ production_date_window() }}

),

shifts as (

    select production_date, shift_id, start_ts, end_ts
    from {{ ref('stg_mes__shifts') }}
    where {{ production_date_window() }}

),

checked as (

    select
        measurements.measurement_id,
        measurements.case_id,
        batches.product_id,
        measurements.activity,
        measurements.machine_id,
        measurements.characteristic,
        measurements.unit,
        measurements.measured_value,
        measurements.lsl,
        measurements.usl,
        -- a missing limit does not constrain; a missing value is neither in nor out of spec
        case
            when measurements.measured_value is null then null
            else
                (measurements.lsl is null or measurements.measured_value >= measurements.lsl)
                and (measurements.usl is null or measurements.measured_value <= measurements.usl)
        end as in_spec,
        measurements.measured_ts,
        measurements.production_date,
        shifts.shift_id

    from measurements
    left join {{ ref('dim_batch') }} as batches
        on batches.case_id = measurements.case_id
    left join shifts
        on shifts.production_date = measurements.production_date
            and measurements.measured_ts >= shifts.start_ts
            and measurements.measured_ts < shifts.end_ts

)

select * from checked
