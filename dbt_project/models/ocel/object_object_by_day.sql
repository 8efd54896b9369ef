{#- Object-to-object relations as each factory day states them, incremental by day. -#}
select
    cast(ocel_source_id as {{ type_text() }}) as ocel_source_id,
    cast(ocel_target_id as {{ type_text() }}) as ocel_target_id,
    cast(ocel_qualifier as {{ type_text() }}) as ocel_qualifier,
    cast({{ adapter.quote("date") }} as date) as production_date
from {{ source('genealogy', 'object_object') }}
where {{ production_date_window(adapter.quote("date")) }}
