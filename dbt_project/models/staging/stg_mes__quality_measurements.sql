with

source as (

    select * from {{ source('mes', 'quality_measurements') }}

),

renamed as (

    select
        -- ids
        cast(measurement_id as {{ type_text() }}) as measurement_id,
        cast(case_id as {{ type_text() }}) as case_id,
        cast(machine_id as {{ type_text() }}) as machine_id,
        cast(activity as {{ type_text() }}) as activity,

        -- the measurement
        cast(characteristic as {{ type_text() }}) as characteristic,
        cast(unit as {{ type_text() }}) as unit,
        cast(value as double) as measured_value,
        cast(lsl as double) as lsl,
        cast(usl as double) as usl,

        -- time
        cast(measured_ts as {{ type_timestamp_utc() }}) as measured_ts,
        cast({{ adapter.quote("date") }} as date) as production_date

    from source

)

select * from renamed
