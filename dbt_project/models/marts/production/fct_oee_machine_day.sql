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

states as (

    select
        production_date,
        machine_id,
        state,
        start_ts,
        duration_s,
        lag(state) over (partition by production_date, machine_id order by start_ts) as previous_state
    from {{ ref('stg_mes__machine_states') }}
    where {{ production_date_window() }}

),

state_times as (

    select
        production_date,
        machine_id,
        sum(duration_s) as planned_operation_time_s,
        coalesce(sum(duration_s) filter (where state = 'planned_maintenance'), 0) as planned_downtime_s,
        coalesce(sum(duration_s) filter (where state = 'producing'), 0) as actual_production_time_s,
        coalesce(sum(duration_s) filter (where state = 'setup'), 0) as setup_time_s,
        coalesce(sum(duration_s) filter (where state = 'breakdown'), 0) as breakdown_time_s,
        coalesce(sum(duration_s) filter (where state = 'micro_stop'), 0) as micro_stop_time_s,
        coalesce(sum(duration_s) filter (where state = 'idle'), 0) as idle_time_s,
        -- back-to-back breakdown intervals are one breakdown
        count(*) filter (where state = 'breakdown' and previous_state is distinct from 'breakdown') as breakdown_count
    from states
    group by production_date, machine_id

),

-- the producing intervals that directly follow a setup: a step starting one is a start-up step
producing_after_setup as (

    select machine_id, start_ts
    from states
    where state = 'producing' and previous_state = 'setup'

),

events as (

    select
        events.*,
        producing_after_setup.start_ts is not null as is_startup
    from {{ ref('stg_mes__production_events') }} as events
    left join producing_after_setup
        on  producing_after_setup.machine_id = events.machine_id
        and producing_after_setup.start_ts = events.start_ts
    where {{ production_date_window('events.production_date') }}

),

event_quantities as (

    select
        production_date,
        machine_id,
        any_value(line_id) as line_id,
        any_value(activity) as activity,
        count(*) as event_count,
        sum(produced_qty) as produced_qty,
        sum(good_qty) as good_qty,
        sum(scrap_qty) as scrap_qty,
        coalesce(sum(scrap_qty) filter (where is_startup), 0) as startup_scrap_qty,
        coalesce(sum(produced_qty) filter (where is_rework), 0) as rework_qty
    from events
    group by production_date, machine_id

),

machine_days as (

    select production_date, machine_id from machines
    union
    select production_date, machine_id from state_times
    union
    select production_date, machine_id from event_quantities

),

times_and_quantities as (

    select
        machine_days.production_date,
        machine_days.machine_id,
        coalesce(machines.line_id, event_quantities.line_id) as line_id,
        coalesce(machines.activity, event_quantities.activity) as activity,
        machines.planned_runtime_per_unit_s,

        coalesce(state_times.planned_operation_time_s, 0) as planned_operation_time_s,
        coalesce(state_times.planned_downtime_s, 0) as planned_downtime_s,
        coalesce(state_times.planned_operation_time_s, 0)
            - coalesce(state_times.planned_downtime_s, 0) as planned_busy_time_s,
        coalesce(state_times.actual_production_time_s, 0) as actual_production_time_s,
        coalesce(state_times.setup_time_s, 0) as setup_time_s,
        coalesce(state_times.breakdown_time_s, 0)
            + coalesce(state_times.micro_stop_time_s, 0) as delay_time_s,
        coalesce(state_times.breakdown_time_s, 0) as breakdown_time_s,
        coalesce(state_times.micro_stop_time_s, 0) as micro_stop_time_s,
        coalesce(state_times.idle_time_s, 0) as idle_time_s,
        coalesce(state_times.breakdown_count, 0) as breakdown_count,

        coalesce(event_quantities.event_count, 0) as event_count,
        coalesce(event_quantities.produced_qty, 0) as produced_qty,
        coalesce(event_quantities.good_qty, 0) as good_qty,
        coalesce(event_quantities.scrap_qty, 0) as scrap_qty,
        coalesce(event_quantities.startup_scrap_qty, 0) as startup_scrap_qty,
        coalesce(event_quantities.rework_qty, 0) as rework_qty

    from machine_days
    left join machines
        on  machines.production_date = machine_days.production_date
        and machines.machine_id = machine_days.machine_id
    left join state_times
        on  state_times.production_date = machine_days.production_date
        and state_times.machine_id = machine_days.machine_id
    left join event_quantities
        on  event_quantities.production_date = machine_days.production_date
        and event_quantities.machine_id = machine_days.machine_id

),

oee as (

    select
        production_date,
        machine_id,
        line_id,
        activity,
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

)

select * from oee
