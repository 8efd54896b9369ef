{#-
  One row per batch (the process-mining case) with the attributes analysts correlate with throughput time and
  rework: product, batch size, the shift and crew it entered production in, and the ambient temperature of the
  room of its ambient-sensitive step (var ambient_step, coating by default: the coater's drying is what a warm
  room upsets). A full rebuild each run: a batch's row changes as long as it moves through the plant.
-#}
{{ config(materialized='table', unique_key=none, partition_by=none) }}

with

events as (

    select * from {{ ref('fct_process_events') }}

),

batches as (

    select
        case_id,
        {{ arg_min('product_id', 'start_ts') }} as product_id,
        min(start_ts) as released_ts,
        {{ arg_min('production_date', 'start_ts') }} as release_date,
        {{ arg_min('shift_id', 'start_ts') }} as entry_shift_id,
        {{ arg_min('resource', 'start_ts') }} as entry_crew_id,
        -- the cells that entered the route: produced quantity of the first (non-rework) step
        {{ arg_min('produced_qty', 'start_ts') }} filter (where not is_rework) as batch_size_cells,
        count(*) as step_count,
        count(*) filter (where is_rework) as rework_step_count,
        sum(scrap_qty) as scrap_cells,
        {{ arg_max('activity', 'end_ts') }} as last_activity,
        max(end_ts) filter (where activity = '{{ var("final_activity") }}') as completed_ts,
        {{ arg_max('good_qty', 'end_ts') }} filter (
            where activity = '{{ var("final_activity") }}'
        ) as cells_completed,
        {{ arg_min('machine_id', 'start_ts') }} filter (where activity = '{{ var("ambient_step") }}')
            as ambient_step_machine_id,
        min(start_ts) filter (where activity = '{{ var("ambient_step") }}') as ambient_step_start_ts
    from events
    group by case_id

),

ambient as (

    select
        sensor_id,
        hour,
        mean_value
    from {{ ref('fct_sensor_hourly') }}
    where measure = 'temperature' and sensor_id like '%.ambient_temperature'

),

with_room as (

    select
        batches.*,
        machines.room_id as ambient_step_room_id,
        ambient.mean_value as ambient_step_temperature_c
    from batches
    left join {{ ref('dim_machine') }} as machines
        on machines.machine_id = batches.ambient_step_machine_id
    left join ambient
        on ambient.sensor_id = machines.room_id || '.ambient_temperature'
            and ambient.hour
            = {{ utc_hour_start('batches.ambient_step_start_ts') }}

)

select
    cast(case_id as {{ type_text() }}) as case_id,
    cast(product_id as {{ type_text() }}) as product_id,
    released_ts,
    cast(release_date as date) as release_date,
    cast(entry_shift_id as {{ type_text() }}) as entry_shift_id,
    cast(entry_crew_id as {{ type_text() }}) as entry_crew_id,
    cast(batch_size_cells as bigint) as batch_size_cells,
    cast(step_count as bigint) as step_count,
    cast(rework_step_count as bigint) as rework_step_count,
    cast(scrap_cells as bigint) as scrap_cells,
    cast(last_activity as {{ type_text() }}) as last_activity,
    completed_ts is not null as is_completed,
    completed_ts,
    cast(cells_completed as bigint) as cells_completed,
    cast(
        {{ epoch_seconds('completed_ts') }} - {{ epoch_seconds('released_ts') }} as double
    ) as throughput_time_s,
    cast(ambient_step_machine_id as {{ type_text() }}) as ambient_step_machine_id,
    cast(ambient_step_room_id as {{ type_text() }}) as ambient_step_room_id,
    cast(ambient_step_temperature_c as double) as ambient_step_temperature_c
from with_room
