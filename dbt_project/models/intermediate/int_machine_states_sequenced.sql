{#-
  The machine state intervals of the run's factory-day window, each with the state before it on the same
  machine and day: what the OEE marts need to count breakdowns and to find start-up steps.
  Ephemeral: inlined into each mart with that mart's window, so a partition rebuild reads only its days.
-#}
with

states as (

    select
        production_date,
        machine_id,
        state,
        start_ts,
        end_ts,
        duration_s,
        lag(state) over (partition by production_date, machine_id order by start_ts) as previous_state
    from {{ ref('stg_mes__machine_states') }}
    where {{ production_date_window() }}

)

select
    *,
    -- back-to-back breakdown intervals are one breakdown
    (state = 'breakdown' and previous_state is distinct from 'breakdown') as begins_breakdown,
    -- a producing interval directly after a setup: the step starting it is a start-up step
    (state = 'producing' and previous_state is not distinct from 'setup') as follows_setup
from states
