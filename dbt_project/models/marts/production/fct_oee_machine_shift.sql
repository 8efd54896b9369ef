{#-
  OEE per machine and shift, ISO 22400-2, with the crew and its staffing: the grain of shift comparison.
  A state interval that crosses a shift boundary is split at it, so each shift gets exactly its own seconds;
  a production event counts in the shift in which it started. Ratios as in fct_oee_machine_day, from this
  shift's times and quantities (macro iso22400_kpis). Incremental by factory day (delete+insert on
  production_date); window from --vars.
-#}
with

shifts as (

    select production_date, shift_id, shift_name, crew_id, staffed_headcount, start_ts, end_ts
    from {{ ref('stg_mes__shifts') }}
    where {{ production_date_window() }}

),

machines as (

    select production_date, machine_id, line_id, activity, planned_runtime_per_unit_s
    from {{ ref('stg_mes__machines') }}
    where {{ production_date_window() }}

),

-- every state interval cut into its pieces inside each shift it overlaps
pieces as (

    select
        states.production_date,
        states.machine_id,
        shifts.shift_id,
        states.state,
        {{ epoch_seconds('least(states.end_ts, shifts.end_ts)') }}
        - {{ epoch_seconds('greatest(states.start_ts, shifts.start_ts)') }} as seconds,
        -- a breakdown is counted in the shift in which it began
        states.begins_breakdown and states.start_ts >= shifts.start_ts as begins_breakdown
    from {{ ref('int_machine_states_sequenced') }} as states
    inner join shifts
        on shifts.production_date = states.production_date
            and states.start_ts < shifts.end_ts
            and states.end_ts > shifts.start_ts

),

state_times as (

    select
        production_date,
        machine_id,
        shift_id,
        {{ state_time_sums(seconds='seconds') }}
    from pieces
    group by production_date, machine_id, shift_id

),

event_quantities as (

    select
        events.production_date,
        events.machine_id,
        shifts.shift_id,
        {{ event_quantity_sums('events.') }}
    from {{ ref('int_production_events_flagged') }} as events
    inner join shifts
        on shifts.production_date = events.production_date
            and events.start_ts >= shifts.start_ts
            and events.start_ts < shifts.end_ts
    group by events.production_date, events.machine_id, shifts.shift_id

),

machine_shifts as (

    select production_date, machine_id, shift_id from state_times
    union
    select production_date, machine_id, shift_id from event_quantities

),

measures as (

    select
        machine_shifts.production_date,
        machine_shifts.shift_id,
        shifts.shift_name,
        shifts.crew_id,
        shifts.staffed_headcount,
        machine_shifts.machine_id,
        {{ machine_oee_measures() }}
    from machine_shifts
    inner join shifts
        on shifts.production_date = machine_shifts.production_date
            and shifts.shift_id = machine_shifts.shift_id
    left join machines
        on machines.production_date = machine_shifts.production_date
            and machines.machine_id = machine_shifts.machine_id
    left join state_times
        on state_times.production_date = machine_shifts.production_date
            and state_times.machine_id = machine_shifts.machine_id
            and state_times.shift_id = machine_shifts.shift_id
    left join event_quantities
        on event_quantities.production_date = machine_shifts.production_date
            and event_quantities.machine_id = machine_shifts.machine_id
            and event_quantities.shift_id = machine_shifts.shift_id

)

select
    *,
    {{ iso22400_kpis() }},
    {{ six_big_losses() }}
from measures
