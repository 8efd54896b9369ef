{#-
  Which KPIs the data of a factory day can support, and why not where they cannot: one row per day and KPI.
  A plant export may lack machine states (availability needs the ISO 22400 time model), planned runtimes per unit
  (effectiveness), costs or products; the marts then hold nulls, and this table says why, so a report states
  "not computable" instead of showing a number nobody measured. Incremental by factory day.
-#}
with

events as (

    select production_date, count(*) as events, count(distinct machine_id) as machines_producing
    from {{ ref('stg_mes__production_events') }}
    where {{ production_date_window() }}
    group by production_date

),

states as (

    select production_date, count(*) as state_intervals
    from {{ ref('stg_mes__machine_states') }}
    where {{ production_date_window() }}
    group by production_date

),

machines as (

    -- machines that produced that day but whose master data lacks a PRU or a conversion cost
    select
        e.production_date,
        count(distinct case when m.planned_runtime_per_unit_s is null then e.machine_id end) as without_pru,
        count(distinct case when m.conversion_cost_per_hour is null then e.machine_id end) as without_cost
    from {{ ref('stg_mes__production_events') }} as e
    left join {{ ref('stg_mes__machines') }} as m
        on m.machine_id = e.machine_id and m.production_date = e.production_date
    where {{ production_date_window('e.production_date') }}
    group by e.production_date

),

products as (

    select production_date, count(*) as products
    from {{ ref('stg_mes__products') }}
    where {{ production_date_window() }}
    group by production_date

),

days as (

    select
        e.production_date,
        e.events,
        e.machines_producing,
        coalesce(s.state_intervals, 0) as state_intervals,
        coalesce(m.without_pru, 0) as without_pru,
        coalesce(m.without_cost, 0) as without_cost,
        coalesce(p.products, 0) as products
    from events as e
    left join states as s using (production_date)
    left join machines as m using (production_date)
    left join products as p using (production_date)

),

reasons as (

    select
        production_date,
        'availability' as kpi,
        case
            when state_intervals = 0 then 'no machine states: the source has no ISO 22400 time model'
        end as reason
    from days
    union all
    select
        production_date,
        'effectiveness' as kpi,
        case
            when state_intervals = 0 then 'no machine states: actual production time is unknown'
            when without_pru > 0 then without_pru || ' producing machine(s) have no planned runtime per unit'
        end as reason
    from days
    union all
    select production_date, 'quality_ratio' as kpi, cast(null as {{ type_text() }}) as reason from days
    union all
    select
        production_date,
        'oee' as kpi,
        case
            when state_intervals = 0 then 'no machine states: availability and effectiveness are unknown'
            when without_pru > 0 then without_pru || ' producing machine(s) have no planned runtime per unit'
        end as reason
    from days
    union all
    select production_date, 'process_mining' as kpi, cast(null as {{ type_text() }}) as reason from days
    union all
    select
        production_date,
        'cost_of_scrap' as kpi,
        case
            when products = 0 then 'no product master data: material cost per cell is unknown'
            when without_cost > 0 then without_cost || ' producing machine(s) have no conversion cost'
        end as reason
    from days

)

select
    production_date,
    cast(kpi as {{ type_text() }}) as kpi,
    reason is null as computable,
    cast(reason as {{ type_text() }}) as reason
from reasons
