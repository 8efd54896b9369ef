{#- Object attribute values as each factory day states them, incremental by day. -#}
select
    cast(ocel_id as {{ type_text() }}) as ocel_id,
    cast(ocel_time as {{ type_timestamp_utc() }}) as ocel_time,
    cast(name as {{ type_text() }}) as name,
    cast(value_num as double) as value_num,
    cast(value_str as {{ type_text() }}) as value_str,
    cast({{ adapter.quote("date") }} as date) as production_date
from {{ source('genealogy', 'object_attribute') }}
where {{ production_date_window(adapter.quote("date")) }}
