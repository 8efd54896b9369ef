with

source as (

    select * from {{ source('mes', 'production_events') }}

),

renamed as (

    select
        -- ids
        cast(event_id as {{ type_text() }}) as event_id,
        cast(case_id as {{ type_text() }}) as case_id,
        cast(product_id as {{ type_text() }}) as product_id,
        cast(line_id as {{ type_text() }}) as line_id,
        cast(machine_id as {{ type_text() }}) as machine_id,
        cast(crew_id as {{ type_text() }}) as crew_id,

        -- the step
        cast(activity as {{ type_text() }}) as activity,
        cast(is_rework as boolean) as is_rework,

        -- quantities (cells)
        cast(produced_qty as bigint) as produced_qty,
        cast(good_qty as bigint) as good_qty,
        cast(scrap_qty as bigint) as scrap_qty,

        -- time
        cast(start_ts as {{ type_timestamp_utc() }}) as start_ts,
        cast(end_ts as {{ type_timestamp_utc() }}) as end_ts,
        {{ seconds_between('start_ts', 'end_ts') }} as duration_s,
        cast({{ adapter.quote("date") }} as date) as production_date

    from source

)

select * from renamed
