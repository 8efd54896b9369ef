{#- The factory's shifts with crew and staffing. Incremental by factory day; window from --vars. -#}
with

shifts as (

    select * from {{ ref('stg_mes__shifts') }}
    where {{ production_date_window() }}

)

select
    cast(shift_id as {{ type_text() }}) as shift_id,
    production_date,
    cast(shift_name as {{ type_text() }}) as shift_name,
    cast(crew_id as {{ type_text() }}) as crew_id,
    cast(staffed_headcount as bigint) as staffed_headcount,
    start_ts,
    end_ts,
    cast(({{ epoch_seconds('end_ts') }} - {{ epoch_seconds('start_ts') }}) / 3600.0 as double) as shift_hours,
    cast(
        staffed_headcount
        * ({{ epoch_seconds('end_ts') }} - {{ epoch_seconds('start_ts') }}) / 3600.0 as double
    ) as staffed_hours,
    cast({{ weekday_name('production_date') }} as {{ type_text() }}) as weekday
from shifts
