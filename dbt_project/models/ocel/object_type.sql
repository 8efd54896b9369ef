{{ config(materialized='view') }}
{#- OCEL 2.0 object types with their attributes: a row per type and attribute (null: a type without any). -#}
with

objects as (

    select ocel_type, count(*) as objects
    from {{ ref('object') }}
    group by ocel_type

),

attributes as (

    select distinct
        o.ocel_type,
        a.name as attribute,
        case when a.value_num is null then 'string' else 'float' end as attribute_type
    from {{ ref('object_attribute') }} as a
    inner join {{ ref('object') }} as o on a.ocel_id = o.ocel_id

)

select
    objects.ocel_type,
    objects.objects,
    attributes.attribute,
    attributes.attribute_type
from objects
left join attributes on objects.ocel_type = attributes.ocel_type
