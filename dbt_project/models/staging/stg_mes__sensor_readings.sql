with

source as (

    select * from {{ source('mes', 'sensor_readings') }}

),

renamed as (

    select
        cast(sensor_id as varchar) as sensor_id,
        cast(machine_id as varchar) as machine_id,
        cast(measure as varchar) as measure,
        cast(unit as varchar) as unit,
        cast(value as double) as reading_value,
        cast(reading_ts as timestamptz) as reading_ts,
        cast("date" as date) as production_date

    from source

)

select * from renamed
