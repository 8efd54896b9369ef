with

source as (

    select * from {{ source('mes', 'sensors') }}

),

renamed as (

    select
        cast(sensor_id as {{ type_text() }}) as sensor_id,
        cast(machine_id as {{ type_text() }}) as machine_id,
        cast(measure as {{ type_text() }}) as measure,
        cast(unit as {{ type_text() }}) as unit,
        cast(plausible_min as double) as plausible_min,
        cast(plausible_max as double) as plausible_max,
        cast({{ adapter.quote("date") }} as date) as production_date

    from source

)

select * from renamed
