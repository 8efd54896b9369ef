{#- Incremental by factory day (delete+insert on production_date, see dbt_project.yml);
    window from --vars. -#}
with

states as (

    select * from {{ ref('stg_mes__machine_states') }}
    where {{ production_date_window() }}

),

machines as (

    select production_date, machine_id, line_id, activity
    from {{ ref('stg_mes__machines') }}
    where {{ production_date_window() }}

),

intervals as (

    select
        states.machine_id,
        machines.line_id,
        machines.activity,
        states.state,
        states.start_ts,
        states.end_ts,
        states.duration_s,
        states.production_date

    from states
    left join machines
        on machines.production_date = states.production_date
            and machines.machine_id = states.machine_id

)

select * from intervals
