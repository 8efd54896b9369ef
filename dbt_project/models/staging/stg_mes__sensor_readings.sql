with

source as (

    select * from {{ source('mes', 'sensor_readings') }}

),

renamed as (

    select
        cast(sensor_id as {{ type_text() }}) as sensor_id,
        cast(machine_id as {{ type_text() }}) as machine_id,
        cast(measure as {{ type_text() }}) as measure,
        cast(unit as {{ type_text() }}) as unit,
        cast(value as double) as reading_value,
        cast(reading_ts as {{ type_timestamp_utc() }}) as reading_ts,
        cast({{ adapter.quote("date") }} as date) as production_date

    from source

)

select * from renamed
