{#- Incremental by factory day (delete+insert on production_date, see dbt_project.yml); window from --vars. -#}
with

measurements as (

    select * from {{ ref('stg_mes__quality_measurements') }}
    where {{ production_date_window() }}

),

checked as (

    select
        measurement_id,
        case_id,
        activity,
        machine_id,
        characteristic,
        unit,
        measured_value,
        lsl,
        usl,
        -- a missing limit does not constrain; a missing value is neither in nor out of spec
        case
            when measured_value is null then null
            else (lsl is null or measured_value >= lsl) and (usl is null or measured_value <= usl)
        end as in_spec,
        measured_ts,
        production_date

    from measurements

)

select * from checked
