{{ config(materialized='view') }}
{#-
  The flattened event logs process mining needs, one per object type: filter on object_type and the object is the
  case (e.g. object_type = 'cell': one trace per cell, Stacking to Packing). Flattening copies an event into the log
  of every object it involves, so counts are per object type, never summed over types.
-#}
select
    o.ocel_type as object_type,
    eo.ocel_object_id as case_id,
    e.ocel_type as activity,
    e.ocel_time as event_time,
    e.ocel_id as event_id,
    eo.ocel_qualifier as qualifier,
    e.production_date
from {{ ref('event_object') }} as eo
inner join {{ ref('event') }} as e on eo.ocel_event_id = e.ocel_id
inner join {{ ref('object') }} as o on eo.ocel_object_id = o.ocel_id
