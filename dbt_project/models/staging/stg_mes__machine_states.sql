with

source as (

    select * from {{ source('mes', 'machine_states') }}

),

renamed as (

    select
        cast(machine_id as varchar) as machine_id,
        cast(state as varchar) as state,
        cast(start_ts as timestamptz) as start_ts,
        cast(end_ts as timestamptz) as end_ts,
        {{ seconds_between('start_ts', 'end_ts') }} as duration_s,
        cast("date" as date) as production_date

    from source

)

select * from renamed
