{#-
  The factory day in money: conversion cost of the machine hours, materials put into cells, the material value
  lost with scrapped cells, revenue of completed good cells, cost per good cell and margin.
  Materials enter at the steps that add them (machines.material_cost_share of the product's material cost per
  cell, first passes only: a rework pass adds no new material). A cell scrapped at a step loses the materials
  added to it up to and including that step, which needs the batch's earlier steps: the mart reads three days
  of history before its window. Incremental by factory day; window from --vars.
-#}
with

machines as (

    select production_date, machine_id, conversion_cost_per_hour, material_cost_share
    from {{ ref('stg_mes__machines') }}
    where {{ production_date_window(days_before=3) }}

),

products as (

    select production_date, product_id, material_cost_per_cell, selling_price_per_cell, currency
    from {{ ref('stg_mes__products') }}
    where {{ production_date_window(days_before=3) }}

),

events as (

    select
        events.production_date,
        events.case_id,
        events.activity,
        events.start_ts,
        events.produced_qty,
        events.good_qty,
        events.scrap_qty,
        events.is_rework,
        products.material_cost_per_cell,
        products.selling_price_per_cell,
        products.currency,
        -- materials added at this step (first passes only); exact, so that the running share is exact on
        -- every engine (a double's running sum depends on how an engine groups it)
        cast(
            case when events.is_rework then 0 else coalesce(machines.material_cost_share, 0) end
            as decimal(12, 9)
        ) as share_added
    from {{ ref('stg_mes__production_events') }} as events
    left join machines
        on machines.production_date = events.production_date and machines.machine_id = events.machine_id
    left join products
        on products.production_date = events.production_date and products.product_id = events.product_id
    where {{ production_date_window('events.production_date', days_before=3) }}

),

valued as (

    select
        *,
        -- share of the cell's materials in it once this step is done
        sum(share_added) over (
            partition by case_id order by start_ts rows unbounded preceding
        ) as share_embodied
    from events

),

flows as (

    select
        production_date,
        any_value(currency) as currency,
        {{ exact_sum('produced_qty * share_added * material_cost_per_cell') }} as material_cost,
        {{ exact_sum('scrap_qty * share_embodied * material_cost_per_cell') }} as scrap_cost,
        sum(scrap_qty) as scrap_cells,
        coalesce(sum(good_qty) filter (where activity = '{{ var("final_activity") }}'), 0) as cells_completed,
        {%- set completed = "activity = '" ~ var('final_activity') ~ "'" %}
        coalesce({{ exact_sum('good_qty * selling_price_per_cell', where=completed) }}, 0) as revenue
    from valued
    where {{ production_date_window() }}
    group by production_date

),

conversion as (

    select
        machine_days.production_date,
        {{ exact_sum('machine_days.planned_operation_time_s / 3600.0 * machines.conversion_cost_per_hour') }}
            as conversion_cost,
        {{ exact_sum('machine_days.planned_operation_time_s') }} / 3600.0 as machine_hours
    from {{ ref('fct_oee_machine_day') }} as machine_days
    inner join machines
        on machines.production_date = machine_days.production_date
            and machines.machine_id = machine_days.machine_id
    where {{ production_date_window('machine_days.production_date') }}
    group by machine_days.production_date

)

select
    flows.production_date,
    cast(flows.currency as {{ type_text() }}) as currency,
    cast(coalesce(conversion.machine_hours, 0) as double) as machine_hours,
    cast(coalesce(conversion.conversion_cost, 0) as double) as conversion_cost,
    cast(flows.material_cost as double) as material_cost,
    cast(flows.scrap_cost as double) as scrap_cost,
    cast(flows.scrap_cells as bigint) as scrap_cells,
    cast(flows.cells_completed as bigint) as cells_completed,
    cast(flows.revenue as double) as revenue,
    cast({{ safe_divide(
        'coalesce(conversion.conversion_cost, 0) + flows.material_cost', 'flows.cells_completed'
    ) }} as double) as cost_per_good_cell,
    cast(flows.revenue - flows.material_cost - coalesce(conversion.conversion_cost, 0) as double) as margin,
    cast({{ safe_divide(
        'flows.revenue - flows.material_cost - coalesce(conversion.conversion_cost, 0)', 'flows.revenue'
    ) }} as double) as margin_ratio
from flows
left join conversion on conversion.production_date = flows.production_date
