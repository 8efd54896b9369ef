{#-
  The objects each factory day names, incremental by day: a material object on the day it is first named, a machine,
  crew or formation channel on every day it works. ocel.object holds each object once.
-#}
select
    cast(ocel_id as {{ type_text() }}) as ocel_id,
    cast(ocel_type as {{ type_text() }}) as ocel_type,
    cast({{ adapter.quote("date") }} as date) as production_date
from {{ source('genealogy', 'object') }}
where {{ production_date_window(adapter.quote("date")) }}
