{#-
  The six big losses in seconds, from a machine grain's summed times and quantities: together they are
  PBT - PRU x good, the planned busy time not turned into good output (so 1 - OEE = their sum / PBT when PRU
  is the machine's own). Availability: breakdowns, setup and adjustment; performance: idling and minor stops
  (starved and micro-stop time), reduced speed (APT - PRU x produced, negative when faster than planned);
  quality: process defects (PRU x scrap outside start-up) and start-up rejects (PRU x scrap of the first step
  after a setup). Roll-ups sum these columns (macro oee_rollup_sums).
-#}
{% macro six_big_losses() -%}
    breakdown_time_s as loss_breakdowns_s,
    setup_time_s as loss_setup_adjustment_s,
    idle_time_s + micro_stop_time_s as loss_idling_minor_stops_s,
    actual_production_time_s - planned_runtime_per_unit_s * produced_qty as loss_reduced_speed_s,
    planned_runtime_per_unit_s * (scrap_qty - startup_scrap_qty) as loss_process_defects_s,
    planned_runtime_per_unit_s * startup_scrap_qty as loss_startup_rejects_s
{%- endmacro %}

{#- The additive columns of an OEE grain, summed for a roll-up (line, step, factory): times and quantities
    first, ratios afterwards from the sums (iso22400_kpis). -#}
{% macro oee_rollup_sums() -%}
    {%- for column in [
        'planned_operation_time_s', 'planned_downtime_s', 'planned_busy_time_s', 'actual_production_time_s',
        'setup_time_s', 'delay_time_s', 'breakdown_time_s', 'micro_stop_time_s', 'idle_time_s',
        'planned_runtime_of_output_s', 'loss_breakdowns_s', 'loss_setup_adjustment_s',
        'loss_idling_minor_stops_s', 'loss_reduced_speed_s', 'loss_process_defects_s', 'loss_startup_rejects_s',
    ] %}
    cast(sum({{ column }}) as double) as {{ column }},
    {%- endfor %}
    {%- for column in [
        'breakdown_count', 'event_count', 'produced_qty', 'good_qty', 'scrap_qty', 'startup_scrap_qty', 'rework_qty',
    ] %}
    cast(sum({{ column }}) as bigint) as {{ column }},
    {%- endfor %}
{%- endmacro %}

{#- A roll-up of fct_oee_machine_day to the grain `group_column` (line_id, activity; none: the whole factory) and
    factory day: the machine days' times, quantities and losses are summed, then the KPIs taken from the sums. -#}
{% macro oee_rollup(group_column=none) -%}
with

machine_days as (

    select * from {{ ref('fct_oee_machine_day') }}
    where {{ production_date_window() }}

),

sums as (

    select
        production_date,
        {%- if group_column %}
        -- a plant export without line (or step) master data still gets its row
        coalesce({{ group_column }}, '(unassigned)') as {{ group_column }},
        {%- endif %}
        {{ oee_rollup_sums() }}
        cast(count(*) as bigint) as machine_count
    from machine_days
    group by production_date{% if group_column %}, coalesce({{ group_column }}, '(unassigned)'){% endif %}

)

select
    *,
    {{ iso22400_kpis(planned_output='planned_runtime_of_output_s') }}
from sums
{%- endmacro %}
