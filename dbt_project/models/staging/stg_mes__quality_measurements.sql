with

source as (

    select * from {{ source('mes', 'quality_measurements') }}

),

renamed as (

    select
        -- ids
        cast(measurement_id as varchar) as measurement_id,
        cast(case_id as varchar) as case_id,
        cast(machine_id as varchar) as machine_id,
        cast(activity as varchar) as activity,

        -- the measurement
        cast(characteristic as varchar) as characteristic,
        cast(unit as varchar) as unit,
        cast(value as double) as measured_value,
        cast(lsl as double) as lsl,
        cast(usl as double) as usl,

        -- time
        cast(measured_ts as timestamptz) as measured_ts,
        cast("date" as date) as production_date

    from source

)

select * from renamed
