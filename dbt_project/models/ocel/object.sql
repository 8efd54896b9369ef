{{ config(materialized='view') }}
{#- OCEL 2.0 objects, each once, with the factory day it was first named. -#}
select
    ocel_id,
    ocel_type,
    min(production_date) as first_production_date
from {{ ref('object_by_day') }}
group by ocel_id, ocel_type
