with

source as (

    select * from {{ source('mes', 'shifts') }}

),

renamed as (

    select
        cast(shift_id as {{ type_text() }}) as shift_id,
        cast(shift_name as {{ type_text() }}) as shift_name,
        cast(crew_id as {{ type_text() }}) as crew_id,
        cast(staffed_headcount as bigint) as staffed_headcount,
        cast(start_ts as {{ type_timestamp_utc() }}) as start_ts,
        cast(end_ts as {{ type_timestamp_utc() }}) as end_ts,
        {{ seconds_between('start_ts', 'end_ts') }} as duration_s,
        cast({{ adapter.quote("date") }} as date) as production_date

    from source

)

select * from renamed
