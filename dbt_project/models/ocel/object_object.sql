{{ config(materialized='view') }}
{#- OCEL 2.0 object-to-object relations, each once. -#}
select distinct
    ocel_source_id,
    ocel_target_id,
    ocel_qualifier
from {{ ref('object_object_by_day') }}
