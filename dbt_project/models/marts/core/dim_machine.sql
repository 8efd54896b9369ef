{#-
  Every machine the plant has reported, with its latest master data and the days it was seen.
  A full rebuild each run (small: one row per machine).
-#}
{{ config(materialized='table', unique_key=none, partition_by=none) }}

with

machine_days as (

    select * from {{ ref('stg_mes__machines') }}

),

machines as (

    select
        machine_id,
        {{ arg_max('line_id', 'production_date') }} as line_id,
        {{ arg_max('room_id', 'production_date') }} as room_id,
        {{ arg_max('activity', 'production_date') }} as activity,
        {{ arg_max('planned_runtime_per_unit_s', 'production_date') }} as planned_runtime_per_unit_s,
        {{ arg_max('conversion_cost_per_hour', 'production_date') }} as conversion_cost_per_hour,
        {{ arg_max('material_cost_share', 'production_date') }} as material_cost_share,
        min(production_date) as first_seen_date,
        max(production_date) as last_seen_date
    from machine_days
    group by machine_id

)

select
    cast(machine_id as {{ type_text() }}) as machine_id,
    cast(line_id as {{ type_text() }}) as line_id,
    cast(room_id as {{ type_text() }}) as room_id,
    cast(activity as {{ type_text() }}) as activity,
    cast(planned_runtime_per_unit_s as double) as planned_runtime_per_unit_s,
    cast(conversion_cost_per_hour as double) as conversion_cost_per_hour,
    cast(material_cost_share as double) as material_cost_share,
    cast(first_seen_date as date) as first_seen_date,
    cast(last_seen_date as date) as last_seen_date
from machines
