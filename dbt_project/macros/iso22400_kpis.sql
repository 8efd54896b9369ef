{#-
  The ISO 22400-2 KPIs from summed times and quantities, as columns: one definition for every OEE grain
  (machine-shift, machine-day, line-day, step-day, factory-day). `relation` prefixes the columns ('factory_days.'); `planned_output`
  is the planned runtime of the produced quantity (PRU x produced, or its sum). Effectiveness is not clamped.
  Utilization is the share of planned busy time the machines had work (not idle, i.e. not starved): the
  constraint of the plant is the step whose machines are never short of work.
-#}
{% macro iso22400_kpis(relation='', planned_output='planned_runtime_per_unit_s * produced_qty') -%}
    {%- set r = relation -%}
    {%- set availability = safe_divide(r ~ 'actual_production_time_s', r ~ 'planned_busy_time_s') -%}
    {%- set effectiveness = safe_divide(r ~ planned_output, r ~ 'actual_production_time_s') -%}
    {%- set quality = safe_divide(r ~ 'good_qty', r ~ 'produced_qty') -%}
    {{ availability }} as availability,
    {{ effectiveness }} as effectiveness,
    {{ quality }} as quality_ratio,
    {{ availability }} * {{ effectiveness }} * {{ quality }} as oee,
    {{ safe_divide(r ~ 'planned_busy_time_s - ' ~ r ~ 'idle_time_s', r ~ 'planned_busy_time_s') }} as utilization,
    {{ safe_divide(r ~ 'scrap_qty', r ~ 'produced_qty') }} as scrap_ratio,
    {{ safe_divide(r ~ 'rework_qty', r ~ 'produced_qty') }} as rework_ratio,
    {{ safe_divide(r ~ 'actual_production_time_s', r ~ 'breakdown_count') }} as mtbf_s,
    {{ safe_divide(r ~ 'breakdown_time_s', r ~ 'breakdown_count') }} as mttr_s
{%- endmacro %}
