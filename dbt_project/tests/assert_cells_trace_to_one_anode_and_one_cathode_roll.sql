{#-
  Every cell made in the window's days comes from exactly one anode and one cathode daughter roll, each slit from
  one coil coated with one slurry batch of its electrode: a broken chain is a row.
-#}
with

cells as (

    select ocel_id
    from {{ ref('object_by_day') }}
    where ocel_type = 'cell' and {{ production_date_window() }}

),

relations as (

    select ocel_source_id, ocel_target_id, ocel_qualifier
    from {{ ref('object_object_by_day') }}

),

rolls as (

    select
        cells.ocel_id as cell_id,
        sum(case when relations.ocel_qualifier = 'anode from' then 1 else 0 end) as anode_rolls,
        sum(case when relations.ocel_qualifier = 'cathode from' then 1 else 0 end) as cathode_rolls,
        count(distinct coils.ocel_target_id) as coils,
        count(distinct slurries.ocel_target_id) as slurry_batches
    from cells
    left join relations
        on cells.ocel_id = relations.ocel_source_id
            and relations.ocel_qualifier in ('anode from', 'cathode from')
    left join relations as coils
        on relations.ocel_target_id = coils.ocel_source_id and coils.ocel_qualifier = 'slit from'
    left join relations as slurries
        on coils.ocel_target_id = slurries.ocel_source_id and slurries.ocel_qualifier = 'coated with'
    group by cells.ocel_id

)

select *
from rolls
where anode_rolls <> 1 or cathode_rolls <> 1 or coils <> 2 or slurry_batches <> 2
