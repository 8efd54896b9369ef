with

source as (

    select * from {{ source('mes', 'machines') }}

),

renamed as (

    select
        cast(machine_id as {{ type_text() }}) as machine_id,
        cast(line_id as {{ type_text() }}) as line_id,
        cast(activity as {{ type_text() }}) as activity,
        cast(room_id as {{ type_text() }}) as room_id,
        cast(planned_runtime_per_unit_s as double) as planned_runtime_per_unit_s,
        cast(conversion_cost_per_hour as double) as conversion_cost_per_hour,
        cast(material_cost_share as double) as material_cost_share,
        cast({{ adapter.quote("date") }} as date) as production_date

    from source

)

select * from renamed
