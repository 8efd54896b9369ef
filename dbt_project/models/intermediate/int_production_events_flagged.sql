{#-
  The production events of the run's factory-day window, each flagged whether it is a start-up step: the step
  that starts a producing interval directly after a setup (its scrap is a start-up reject, ISO 22400's sixth
  big loss). Ephemeral, windowed like the marts that inline it.
-#}
with

events as (

    select * from {{ ref('stg_mes__production_events') }}
    where {{ production_date_window() }}

),

startup_starts as (

    select machine_id, start_ts
    from {{ ref('int_machine_states_sequenced') }}
    where follows_setup

)

select
    events.*,
    startup_starts.start_ts is not null as is_startup
from events
left join startup_starts
    on startup_starts.machine_id = events.machine_id
        and startup_starts.start_ts = events.start_ts
