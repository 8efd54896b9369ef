with

source as (

    select * from {{ source('mes', 'machine_states') }}

),

renamed as (

    select
        cast(machine_id as {{ type_text() }}) as machine_id,
        cast(state as {{ type_text() }}) as state,
        cast(start_ts as {{ type_timestamp_utc() }}) as start_ts,
        cast(end_ts as {{ type_timestamp_utc() }}) as end_ts,
        {{ seconds_between('start_ts', 'end_ts') }} as duration_s,
        cast({{ adapter.quote("date") }} as date) as production_date

    from source

)

select * from renamed
