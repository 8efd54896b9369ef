{#-
  OEE per machine and shift, ISO 22400-2, with the crew and its staffing: the grain of shift comparison.
  A state interval that crosses a shift boundary is split at it, so each shift gets exactly its own seconds;
  a production event counts in the shift in which it started. Ratios as in fct_oee_machine_day, from this
  shift's times and quantities (macro iso22400_kpis). Incremental by factory day (delete+insert on production_date); window from --vars.
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

states as (

    select
        production_date,
        machine_id,
        state,
        start_ts,
        end_ts,
        lag(state) over (partition by production_date, machine_id order by start_ts) as previous_state
    from {{ ref('stg_mes__machine_states') }}
    where {{ production_date_window() }}

),

-- every state interval cut into its pieces inside each shift it overlaps
pieces as (

    select
        states.production_date,
        states.machine_id,
        shifts.shift_id,
        states.state,
        epoch(least(states.end_ts, shifts.end_ts)) - epoch(greatest(states.start_ts, shifts.start_ts)) as seconds,
        -- a breakdown is counted in the shift in which it began
        states.state = 'breakdown'
            and states.previous_state is distinct from 'breakdown'
            and states.start_ts >= shifts.start_ts as breakdown_begins
    from states
    join shifts
        on  shifts.production_date = states.production_date
        and states.start_ts < shifts.end_ts
        and states.end_ts > shifts.start_ts

),

state_times as (

    select
        production_date,
        machine_id,
        shift_id,
        sum(seconds) as planned_operation_time_s,
        coalesce(sum(seconds) filter (where state = 'planned_maintenance'), 0) as planned_downtime_s,
        coalesce(sum(seconds) filter (where state = 'producing'), 0) as actual_production_time_s,
        coalesce(sum(seconds) filter (where state = 'setup'), 0) as setup_time_s,
        coalesce(sum(seconds) filter (where state = 'breakdown'), 0) as breakdown_time_s,
        coalesce(sum(seconds) filter (where state = 'micro_stop'), 0) as micro_stop_time_s,
        coalesce(sum(seconds) filter (where state = 'idle'), 0) as idle_time_s,
        count(*) filter (where breakdown_begins) as breakdown_count
    from pieces
    group by production_date, machine_id, shift_id

),

-- the producing intervals that directly follow a setup: a step starting one is a start-up step
producing_after_setup as (

    select machine_id, start_ts
    from states
    where state = 'producing' and previous_state = 'setup'

),

event_quantities as (

    select
        events.production_date,
        events.machine_id,
        shifts.shift_id,
        any_value(events.line_id) as line_id,
        any_value(events.activity) as activity,
        count(*) as event_count,
        sum(events.produced_qty) as produced_qty,
        sum(events.good_qty) as good_qty,
        sum(events.scrap_qty) as scrap_qty,
        coalesce(sum(events.scrap_qty) filter (where producing_after_setup.start_ts is not null), 0)
            as startup_scrap_qty,
        coalesce(sum(events.produced_qty) filter (where events.is_rework), 0) as rework_qty
    from {{ ref('stg_mes__production_events') }} as events
    left join producing_after_setup
        on  producing_after_setup.machine_id = events.machine_id
        and producing_after_setup.start_ts = events.start_ts
    join shifts
        on  shifts.production_date = events.production_date
        and events.start_ts >= shifts.start_ts
        and events.start_ts < shifts.end_ts
    where {{ production_date_window('events.production_date') }}
    group by events.production_date, events.machine_id, shifts.shift_id

),

machine_shifts as (

    select production_date, machine_id, shift_id from state_times
    union
    select production_date, machine_id, shift_id from event_quantities

),

times_and_quantities as (

    select
        ms.production_date,
        ms.shift_id,
        shifts.shift_name,
        shifts.crew_id,
        shifts.staffed_headcount,
        ms.machine_id,
        coalesce(machines.line_id, eq.line_id) as line_id,
        coalesce(machines.activity, eq.activity) as activity,
        machines.planned_runtime_per_unit_s,
        coalesce(st.planned_operation_time_s, 0) as planned_operation_time_s,
        coalesce(st.planned_downtime_s, 0) as planned_downtime_s,
        coalesce(st.planned_operation_time_s, 0) - coalesce(st.planned_downtime_s, 0) as planned_busy_time_s,
        coalesce(st.actual_production_time_s, 0) as actual_production_time_s,
        coalesce(st.setup_time_s, 0) as setup_time_s,
        coalesce(st.breakdown_time_s, 0) + coalesce(st.micro_stop_time_s, 0) as delay_time_s,
        coalesce(st.breakdown_time_s, 0) as breakdown_time_s,
        coalesce(st.micro_stop_time_s, 0) as micro_stop_time_s,
        coalesce(st.idle_time_s, 0) as idle_time_s,
        coalesce(st.breakdown_count, 0) as breakdown_count,
        coalesce(eq.event_count, 0) as event_count,
        coalesce(eq.produced_qty, 0) as produced_qty,
        coalesce(eq.good_qty, 0) as good_qty,
        coalesce(eq.scrap_qty, 0) as scrap_qty,
        coalesce(eq.startup_scrap_qty, 0) as startup_scrap_qty,
        coalesce(eq.rework_qty, 0) as rework_qty
    from machine_shifts as ms
    join shifts
        on shifts.production_date = ms.production_date and shifts.shift_id = ms.shift_id
    left join machines
        on machines.production_date = ms.production_date and machines.machine_id = ms.machine_id
    left join state_times as st
        on  st.production_date = ms.production_date
        and st.machine_id = ms.machine_id
        and st.shift_id = ms.shift_id
    left join event_quantities as eq
        on  eq.production_date = ms.production_date
        and eq.machine_id = ms.machine_id
        and eq.shift_id = ms.shift_id

)

select
    production_date,
    cast(shift_id as varchar) as shift_id,
    cast(shift_name as varchar) as shift_name,
    cast(crew_id as varchar) as crew_id,
    cast(staffed_headcount as bigint) as staffed_headcount,
    cast(machine_id as varchar) as machine_id,
    cast(line_id as varchar) as line_id,
    cast(activity as varchar) as activity,
    cast(planned_runtime_per_unit_s as double) as planned_runtime_per_unit_s,
    cast(planned_operation_time_s as double) as planned_operation_time_s,
    cast(planned_downtime_s as double) as planned_downtime_s,
    cast(planned_busy_time_s as double) as planned_busy_time_s,
    cast(actual_production_time_s as double) as actual_production_time_s,
    cast(setup_time_s as double) as setup_time_s,
    cast(delay_time_s as double) as delay_time_s,
    cast(breakdown_time_s as double) as breakdown_time_s,
    cast(micro_stop_time_s as double) as micro_stop_time_s,
    cast(idle_time_s as double) as idle_time_s,
    cast(breakdown_count as bigint) as breakdown_count,
    cast(event_count as bigint) as event_count,
    cast(produced_qty as bigint) as produced_qty,
    cast(good_qty as bigint) as good_qty,
    cast(scrap_qty as bigint) as scrap_qty,
    cast(startup_scrap_qty as bigint) as startup_scrap_qty,
    cast(rework_qty as bigint) as rework_qty,
    cast(planned_runtime_per_unit_s * produced_qty as double) as planned_runtime_of_output_s,
    {{ iso22400_kpis() }},
    {{ six_big_losses() }}
from times_and_quantities
