with

source as (

    select * from {{ source('mes', 'shifts') }}

),

renamed as (

    select
        cast(shift_id as varchar) as shift_id,
        cast(shift_name as varchar) as shift_name,
        cast(crew_id as varchar) as crew_id,
        cast(staffed_headcount as bigint) as staffed_headcount,
        cast(start_ts as timestamptz) as start_ts,
        cast(end_ts as timestamptz) as end_ts,
        {{ seconds_between('start_ts', 'end_ts') }} as duration_s,
        cast("date" as date) as production_date

    from source

)

select * from renamed
