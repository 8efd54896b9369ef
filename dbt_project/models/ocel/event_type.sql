{{ config(materialized='view') }}
{#- OCEL 2.0 event types (activities) with their counts; each event carries one attribute, batch_event_id. -#}
select
    ocel_type,
    count(*) as events,
    min(ocel_time) as first_time,
    max(ocel_time) as last_time
from {{ ref('event') }}
group by ocel_type
