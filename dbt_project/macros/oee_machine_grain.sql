{#-
  The two machine grains of OEE (fct_oee_machine_day, fct_oee_machine_shift) sum the same ISO 22400 time model
  and the same quantities; only what they group by differs. These macros are those sums and the measures built
  from them, so that both grains count a second or a cell the same way.
-#}

{#- The time model summed over state intervals (or their pieces): `seconds` is each one's length in seconds,
    `begins_breakdown` whether a breakdown begins in it (counted once however many intervals it spans). -#}
{% macro state_time_sums(seconds='duration_s', begins_breakdown='begins_breakdown') -%}
    sum({{ seconds }}) as planned_operation_time_s,
    {%- for state, column in [
        ('planned_maintenance', 'planned_downtime_s'), ('producing', 'actual_production_time_s'),
        ('setup', 'setup_time_s'), ('breakdown', 'breakdown_time_s'), ('micro_stop', 'micro_stop_time_s'),
        ('idle', 'idle_time_s'),
    ] %}
    coalesce(sum({{ seconds }}) filter (where state = '{{ state }}'), 0) as {{ column }},
    {%- endfor %}
    count(*) filter (where {{ begins_breakdown }}) as breakdown_count
{%- endmacro %}

{#- The quantities summed over production events (int_production_events_flagged, prefixed `relation`). -#}
{% macro event_quantity_sums(relation='') -%}
    {%- set e = relation -%}
    any_value({{ e }}line_id) as line_id,
    any_value({{ e }}activity) as activity,
    count(*) as event_count,
    sum({{ e }}produced_qty) as produced_qty,
    sum({{ e }}good_qty) as good_qty,
    sum({{ e }}scrap_qty) as scrap_qty,
    coalesce(sum({{ e }}scrap_qty) filter (where {{ e }}is_startup), 0) as startup_scrap_qty,
    coalesce(sum({{ e }}produced_qty) filter (where {{ e }}is_rework), 0) as rework_qty
{%- endmacro %}

{#- A machine grain's measures from its master data (`machines`), summed times (`state_times`, state_time_sums)
    and quantities (`event_quantities`, event_quantity_sums), any of them missing: no state is 0 s, no event 0
    cells. The columns iso22400_kpis and six_big_losses read. -#}
{% macro machine_oee_measures(machines='machines', state_times='state_times', event_quantities='event_quantities') -%}
    {%- set m, st, eq = machines ~ '.', state_times ~ '.', event_quantities ~ '.' -%}
    coalesce({{ m }}line_id, {{ eq }}line_id) as line_id,
    coalesce({{ m }}activity, {{ eq }}activity) as activity,
    cast({{ m }}planned_runtime_per_unit_s as double) as planned_runtime_per_unit_s,
    cast(coalesce({{ st }}planned_operation_time_s, 0) as double) as planned_operation_time_s,
    cast(coalesce({{ st }}planned_downtime_s, 0) as double) as planned_downtime_s,
    cast(coalesce({{ st }}planned_operation_time_s, 0) - coalesce({{ st }}planned_downtime_s, 0) as double)
        as planned_busy_time_s,
    cast(coalesce({{ st }}actual_production_time_s, 0) as double) as actual_production_time_s,
    cast(coalesce({{ st }}setup_time_s, 0) as double) as setup_time_s,
    cast(coalesce({{ st }}breakdown_time_s, 0) + coalesce({{ st }}micro_stop_time_s, 0) as double) as delay_time_s,
    {%- for column in ['breakdown_time_s', 'micro_stop_time_s', 'idle_time_s'] %}
    cast(coalesce({{ st }}{{ column }}, 0) as double) as {{ column }},
    {%- endfor %}
    cast(coalesce({{ st }}breakdown_count, 0) as bigint) as breakdown_count,
    {%- for column in ['event_count', 'produced_qty', 'good_qty', 'scrap_qty', 'startup_scrap_qty', 'rework_qty'] %}
    cast(coalesce({{ eq }}{{ column }}, 0) as bigint) as {{ column }},
    {%- endfor %}
    cast({{ m }}planned_runtime_per_unit_s * coalesce({{ eq }}produced_qty, 0) as double) as planned_runtime_of_output_s
{%- endmacro %}
