{#-
  OEE of the whole factory per factory day, ISO 22400-2: times and quantities of fct_oee_machine_day are summed
  first and the ratios taken from the sums (ratios are never averaged).
  Incremental by factory day (delete+insert on production_date, see dbt_project.yml); window from --vars.
-#}
with

machine_days as (

    select * from {{ ref('fct_oee_machine_day') }}
    where {{ production_date_window() }}

),

factory_days as (

    select
        production_date,
        count(*) as machine_count,
        sum(planned_operation_time_s) as planned_operation_time_s,
        sum(planned_downtime_s) as planned_downtime_s,
        sum(planned_busy_time_s) as planned_busy_time_s,
        sum(actual_production_time_s) as actual_production_time_s,
        sum(setup_time_s) as setup_time_s,
        sum(delay_time_s) as delay_time_s,
        sum(breakdown_time_s) as breakdown_time_s,
        sum(micro_stop_time_s) as micro_stop_time_s,
        sum(idle_time_s) as idle_time_s,
        sum(breakdown_count) as breakdown_count,
        sum(event_count) as event_count,
        sum(produced_qty) as produced_qty,
        sum(good_qty) as good_qty,
        sum(scrap_qty) as scrap_qty,
        sum(rework_qty) as rework_qty,
        sum(planned_runtime_of_output_s) as planned_runtime_of_output_s
    from machine_days
    group by production_date

),

-- the final route step: its good cells are the cells the factory completed that day
final_steps as (

    select production_date, case_id, good_qty
    from {{ ref('stg_mes__production_events') }}
    where {{ production_date_window() }}
      and activity = '{{ var("final_activity") }}'

),

completed_cases as (

    select production_date, case_id, sum(good_qty) as cells_completed
    from final_steps
    group by production_date, case_id

),

-- everything each completed batch went through, on that day and the days before
case_histories as (

    select
        completed_cases.production_date,
        completed_cases.case_id,
        any_value(completed_cases.cells_completed) as cells_completed,
        -- the cells that entered the route: produced_qty of the batch's first (non-rework) step
        arg_min(history.produced_qty, history.start_ts) filter (where not history.is_rework) as cells_started,
        coalesce(bool_or(history.is_rework), false) as was_reworked
    from completed_cases
    inner join {{ ref('stg_mes__production_events') }} as history
        on  history.case_id = completed_cases.case_id
        and history.production_date <= completed_cases.production_date
    group by completed_cases.production_date, completed_cases.case_id

),

completions as (

    select
        production_date,
        count(*) as cases_completed,
        count(*) filter (where was_reworked) as cases_reworked,
        sum(cells_completed) as cells_completed,
        sum(cells_started) as cells_started,
        -- right first time: good out of the final step without ever going back
        sum(case when was_reworked then 0 else cells_completed end) as cells_first_pass
    from case_histories
    group by production_date

),

factory_oee as (

    select
        factory_days.production_date,
        cast(factory_days.machine_count as bigint) as machine_count,

        cast(factory_days.planned_operation_time_s as double) as planned_operation_time_s,
        cast(factory_days.planned_downtime_s as double) as planned_downtime_s,
        cast(factory_days.planned_busy_time_s as double) as planned_busy_time_s,
        cast(factory_days.actual_production_time_s as double) as actual_production_time_s,
        cast(factory_days.setup_time_s as double) as setup_time_s,
        cast(factory_days.delay_time_s as double) as delay_time_s,
        cast(factory_days.breakdown_time_s as double) as breakdown_time_s,
        cast(factory_days.micro_stop_time_s as double) as micro_stop_time_s,
        cast(factory_days.idle_time_s as double) as idle_time_s,
        cast(factory_days.breakdown_count as bigint) as breakdown_count,

        cast(factory_days.event_count as bigint) as event_count,
        cast(factory_days.produced_qty as bigint) as produced_qty,
        cast(factory_days.good_qty as bigint) as good_qty,
        cast(factory_days.scrap_qty as bigint) as scrap_qty,
        cast(factory_days.rework_qty as bigint) as rework_qty,
        cast(factory_days.planned_runtime_of_output_s as double) as planned_runtime_of_output_s,

        {{ iso22400_kpis('factory_days.', planned_output='planned_runtime_of_output_s') }},

        cast(coalesce(completions.cells_completed, 0) as bigint) as cells_completed,
        cast(coalesce(completions.cases_completed, 0) as bigint) as cases_completed,
        cast(coalesce(completions.cases_reworked, 0) as bigint) as cases_reworked,
        cast(coalesce(completions.cells_started, 0) as bigint) as cells_started,
        cast(coalesce(completions.cells_first_pass, 0) as bigint) as cells_first_pass,
        {{ safe_divide('completions.cells_first_pass', 'completions.cells_started') }} as first_pass_yield

    from factory_days
    left join completions on completions.production_date = factory_days.production_date

)

select * from factory_oee
