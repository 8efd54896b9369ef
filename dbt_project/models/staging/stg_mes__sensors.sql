with

source as (

    select * from {{ source('mes', 'sensors') }}

),

renamed as (

    select
        cast(sensor_id as varchar) as sensor_id,
        cast(machine_id as varchar) as machine_id,
        cast(measure as varchar) as measure,
        cast(unit as varchar) as unit,
        cast(plausible_min as double) as plausible_min,
        cast(plausible_max as double) as plausible_max,
        cast("date" as date) as production_date

    from source

)

select * from renamed
