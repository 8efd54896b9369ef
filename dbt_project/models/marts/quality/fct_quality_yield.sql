{#-
  First-pass yield, scrap and rework per factory day, shift, route step and machine.
  A first pass (a step the batch had not been through before) is sent back when the batch's next step is a
  rework step: the check after it failed. That outcome is known only when the batch moves on, possibly the next
  day, so this mart reads its events one day beyond its window and rebuilds the day before its window too; a
  first pass whose batch has not moved on yet is pending (not counted in first-pass yield) until it does.
  Incremental by factory day; window from --vars.
-#}
with

events as (

    select
        case_id,
        activity,
        machine_id,
        start_ts,
        end_ts,
        produced_qty,
        good_qty,
        scrap_qty,
        is_rework,
        production_date,
        lead(is_rework) over (partition by case_id order by start_ts, end_ts) as next_is_rework
    from {{ ref('stg_mes__production_events') }}
    where {{ production_date_window(days_before=1, days_after=1) }}

),

shifts as (

    select production_date, shift_id, shift_name, crew_id, start_ts, end_ts
    from {{ ref('stg_mes__shifts') }}
    where {{ production_date_window(days_before=1) }}

),

steps as (

    select
        events.*,
        shifts.shift_id,
        shifts.shift_name,
        shifts.crew_id,
        case
            when events.is_rework then 'rework'
            when events.next_is_rework then 'sent_back'
            when
                events.next_is_rework is not null
                or events.activity = '{{ var("final_activity") }}'
                then 'passed'
            else 'pending'
        end as outcome
    from events
    left join shifts
        on shifts.production_date = events.production_date
            and events.start_ts >= shifts.start_ts
            and events.start_ts < shifts.end_ts
    where {{ production_date_window('events.production_date', days_before=1) }}

),

yields as (

    select
        production_date,
        shift_id,
        any_value(shift_name) as shift_name,
        any_value(crew_id) as crew_id,
        activity,
        machine_id,
        count(*) as step_count,
        count(*) filter (where outcome <> 'rework') as first_pass_count,
        count(*) filter (where outcome = 'sent_back') as sent_back_count,
        count(*) filter (where outcome = 'pending') as pending_count,
        coalesce(sum(produced_qty) filter (where outcome in ('passed', 'sent_back')), 0)
            as first_pass_decided_cells,
        coalesce(sum(good_qty) filter (where outcome = 'passed'), 0) as first_pass_good_cells,
        sum(produced_qty) as produced_cells,
        sum(good_qty) as good_cells,
        sum(scrap_qty) as scrap_cells,
        coalesce(sum(produced_qty) filter (where outcome = 'rework'), 0) as rework_cells
    from steps
    group by production_date, shift_id, activity, machine_id

)

select
    production_date,
    cast(shift_id as {{ type_text() }}) as shift_id,
    cast(shift_name as {{ type_text() }}) as shift_name,
    cast(crew_id as {{ type_text() }}) as crew_id,
    cast(activity as {{ type_text() }}) as activity,
    cast(machine_id as {{ type_text() }}) as machine_id,
    cast(step_count as bigint) as step_count,
    cast(first_pass_count as bigint) as first_pass_count,
    cast(sent_back_count as bigint) as sent_back_count,
    cast(pending_count as bigint) as pending_count,
    cast(first_pass_decided_cells as bigint) as first_pass_decided_cells,
    cast(first_pass_good_cells as bigint) as first_pass_good_cells,
    cast(produced_cells as bigint) as produced_cells,
    cast(good_cells as bigint) as good_cells,
    cast(scrap_cells as bigint) as scrap_cells,
    cast(rework_cells as bigint) as rework_cells,
    {{ safe_divide('first_pass_good_cells', 'first_pass_decided_cells') }} as first_pass_yield,
    {{ safe_divide('sent_back_count', 'first_pass_count - pending_count') }} as sent_back_ratio,
    {{ safe_divide('scrap_cells', 'produced_cells') }} as scrap_ratio,
    {{ safe_divide('rework_cells', 'produced_cells') }} as rework_ratio
from yields
