{#- OCEL 2.0 event-to-object links with their qualifiers, incremental by factory day. -#}
select
    cast(ocel_event_id as {{ type_text() }}) as ocel_event_id,
    cast(ocel_object_id as {{ type_text() }}) as ocel_object_id,
    cast(ocel_qualifier as {{ type_text() }}) as ocel_qualifier,
    cast({{ adapter.quote("date") }} as date) as production_date
from {{ source('genealogy', 'event_object') }}
where {{ production_date_window(adapter.quote("date")) }}
