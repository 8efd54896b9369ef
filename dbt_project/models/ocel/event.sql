{#- OCEL 2.0 events, incremental by factory day (the ocel folder's config in dbt_project.yml). -#}
select
    cast(ocel_id as {{ type_text() }}) as ocel_id,
    cast(ocel_type as {{ type_text() }}) as ocel_type,
    cast(ocel_time as {{ type_timestamp_utc() }}) as ocel_time,
    cast(batch_event_id as {{ type_text() }}) as batch_event_id,
    cast({{ adapter.quote("date") }} as date) as production_date
from {{ source('genealogy', 'event') }}
where {{ production_date_window(adapter.quote("date")) }}
