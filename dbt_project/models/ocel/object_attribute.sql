{{ config(materialized='view') }}
{#- OCEL 2.0 object attribute values and their changes in time, each once. -#}
select distinct
    ocel_id,
    ocel_time,
    name,
    value_num,
    value_str
from {{ ref('object_attribute_by_day') }}
