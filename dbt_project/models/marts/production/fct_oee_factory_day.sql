{#-
  OEE of the whole factory per factory day, ISO 22400-2: times, quantities and six big losses of
  fct_oee_machine_day are summed first and the ratios taken from the sums (ratios are never averaged).
  Incremental by factory day (delete+insert on production_date, see dbt_project.yml); window from --vars.
-#}
with

factory_days as (

    {{ oee_rollup() }}

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
        {{ arg_min('history.produced_qty', 'history.start_ts') }} filter (
            where not history.is_rework
        ) as cells_started,
        coalesce(bool_or(history.is_rework), false) as was_reworked
    from completed_cases
    inner join {{ ref('stg_mes__production_events') }} as history
        on history.case_id = completed_cases.case_id
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
        factory_days.*,

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
