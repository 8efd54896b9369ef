{#-
  OEE per machine and factory day, ISO 22400-2. Times are seconds, quantities cells.
  Incremental by factory day (delete+insert on production_date, see dbt_project.yml); window from --vars.
-#}
with

machines as (

    select production_date, machine_id, line_id, activity, planned_runtime_per_unit_s
    from {{ ref('stg_mes__machines') }}
    where {{ production_date_window() }}

),

state_times as (

    select
        production_date,
        machine_id,
        {{ state_time_sums() }}
    from {{ ref('int_machine_states_sequenced') }}
    group by production_date, machine_id

),

event_quantities as (

    select
        production_date,
        machine_id,
        {{ event_quantity_sums() }}
    from {{ ref('int_production_events_flagged') }}
    group by production_date, machine_id

),

machine_days as (

    select production_date, machine_id from machines
    union
    select production_date, machine_id from state_times
    union
    select production_date, machine_id from event_quantities

),

measures as (

    select
        machine_days.production_date,
        machine_days.machine_id,
        {{ machine_oee_measures() }}
    from machine_days
    left join machines
        on machines.production_date = machine_days.production_date
            and machines.machine_id = machine_days.machine_id
    left join state_times
        on state_times.production_date = machine_days.production_date
            and state_times.machine_id = machine_days.machine_id
    left join event_quantities
        on event_quantities.production_date = machine_days.production_date
            and event_quantities.machine_id = machine_days.machine_id

)

select
    *,
    {{ iso22400_kpis() }},
    {{ six_big_losses() }}
from measures
