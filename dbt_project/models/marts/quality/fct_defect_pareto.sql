{#-
  Defect Pareto per factory day: each characteristic of each route step with out-of-spec samples, ranked by
  the batches it affected, with its share and the cumulative share of the day's defects (the vital few first).
  Incremental by factory day; window from --vars.
-#}
with

defects as (

    select
        production_date,
        activity,
        characteristic,
        count(*) as out_of_spec_samples,
        count(distinct case_id) as batches_affected
    from {{ ref('fct_quality_measurements') }}
    where {{ production_date_window() }}
        and not in_spec
    group by production_date, activity, characteristic

),

ranked as (

    select
        *,
        row_number() over (
            partition by production_date
            order by batches_affected desc, out_of_spec_samples desc, activity asc, characteristic asc
        ) as pareto_rank,
        batches_affected / sum(batches_affected) over (partition by production_date) as share_of_defects
    from defects

)

select
    production_date,
    cast(activity as {{ type_text() }}) as activity,
    cast(characteristic as {{ type_text() }}) as characteristic,
    cast(out_of_spec_samples as bigint) as out_of_spec_samples,
    cast(batches_affected as bigint) as batches_affected,
    cast(pareto_rank as bigint) as pareto_rank,
    cast(share_of_defects as double) as share_of_defects,
    cast(
        sum(share_of_defects) over (partition by production_date order by pareto_rank) as double
    ) as cumulative_share
from ranked
