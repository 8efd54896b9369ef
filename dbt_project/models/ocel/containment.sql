{{ config(materialized='table', partition_by=none, unique_key=none, incremental_strategy=none) }}
{#-
  The containment list a quality engineer acts on: every coil segment and slurry batch whose own measurement lies
  outside its specification (the limits the MES gives its quality measurements), and every cell made from it, with
  where that cell is now (its last status) and its grading. A segment reaches its cells directly (the segment each
  cell's electrode sheet was cut from); a slurry batch through its coils and their daughter rolls. A table rebuilt
  whole by every run (over every day the schema holds): a cell made on a later day joins the list when that day is
  built, whatever days a run rebuilds.
-#}
with

limits as (

    select
        characteristic,
        min(lsl) as lsl,
        max(usl) as usl
    from {{ ref('stg_mes__quality_measurements') }}
    where characteristic in ('coating_thickness', 'areal_loading', 'slurry_viscosity')
    group by characteristic

),

findings as (

    select
        attributes.ocel_id as material_id,
        attributes.name as finding_attribute,
        attributes.value_num as finding_value,
        limits.lsl,
        limits.usl,
        attributes.production_date as found_on
    from {{ ref('object_attribute_by_day') }} as attributes
    inner join limits
        on limits.characteristic = case attributes.name
                when 'coating_thickness_um' then 'coating_thickness'
                when 'areal_loading_mg_cm2' then 'areal_loading'
                when 'slurry_viscosity_mpas' then 'slurry_viscosity'
            end
    where attributes.value_num < limits.lsl or attributes.value_num > limits.usl

),

relations as (

    select ocel_source_id, ocel_target_id, ocel_qualifier
    from {{ ref('object_object_by_day') }}

),

segment_cells as (

    select
        findings.*,
        'coil segment' as material_type,
        cells.ocel_source_id as cell_id
    from findings
    inner join relations as cells
        on findings.material_id = cells.ocel_target_id
            and cells.ocel_qualifier in ('anode segment', 'cathode segment')

),

slurry_cells as (

    select
        findings.*,
        'slurry batch' as material_type,
        cells.ocel_source_id as cell_id
    from findings
    inner join relations as coils
        on findings.material_id = coils.ocel_target_id and coils.ocel_qualifier = 'coated with'
    inner join relations as rolls
        on coils.ocel_source_id = rolls.ocel_target_id and rolls.ocel_qualifier = 'slit from'
    inner join relations as cells
        on rolls.ocel_source_id = cells.ocel_target_id
            and cells.ocel_qualifier in ('anode from', 'cathode from')

),

contained as (

    select * from segment_cells
    union all
    select * from slurry_cells

),

cell_attributes as (

    select
        attributes.ocel_id,
        attributes.ocel_time,
        attributes.name,
        attributes.value_num,
        attributes.value_str
    from {{ ref('object_attribute_by_day') }} as attributes
    where attributes.ocel_id in (select contained.cell_id from contained)

),

statuses as (

    select
        ocel_id,
        value_str as status,
        row_number() over (
            partition by ocel_id
            order by
                ocel_time desc,
                case value_str
                    when 'packed' then 3 when 'scrapped' then 2 when 'graded' then 1 else 0
                end desc
        ) as recency
    from cell_attributes
    where name = 'status'

),

grading as (

    select
        ocel_id,
        max(case when name = 'capacity_ah' then value_num end) as capacity_ah,
        max(case when name = 'internal_resistance_mohm' then value_num end) as internal_resistance_mohm
    from cell_attributes
    group by ocel_id

)

select
    contained.material_id,
    contained.material_type,
    contained.finding_attribute,
    contained.finding_value,
    contained.lsl,
    contained.usl,
    contained.found_on,
    contained.cell_id,
    statuses.status as cell_status,
    grading.capacity_ah,
    grading.internal_resistance_mohm
from contained
left join statuses on contained.cell_id = statuses.ocel_id and statuses.recency = 1
left join grading on contained.cell_id = grading.ocel_id
