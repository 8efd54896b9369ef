{#- Incremental by factory day (delete+insert on production_date, see dbt_project.yml);
    window from --vars. -#}
with

events as (

    select * from {{ ref('stg_mes__production_events') }}
    where {{ production_date_window() }}

),

shifts as (

    select shift_id, production_date, start_ts, end_ts
    from {{ ref('stg_mes__shifts') }}
    where {{ production_date_window() }}

),

event_log as (

    select
        events.event_id,
        events.case_id,
        events.product_id,
        events.activity,
        events.line_id,
        events.machine_id,
        events.crew_id as resource,
        events.start_ts,
        events.end_ts,
        events.duration_s,
        events.produced_qty,
        events.good_qty,
        events.scrap_qty,
        events.is_rework,
        events.production_date,
        shifts.shift_id

    from events
    left join shifts
        on shifts.production_date = events.production_date
            and events.start_ts >= shifts.start_ts
            and events.start_ts < shifts.end_ts

)

select * from event_log
