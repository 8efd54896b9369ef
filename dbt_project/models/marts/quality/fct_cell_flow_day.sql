{#-
  Per-cell flow per factory day and product, from the genealogy (schema ocel): the cells whose route ended that day
  (graded good, or scrapped at any cell step), how many of them went through without repeating a step and were
  graded good (the per-cell first-pass yield), and the lead time from the mixing of their slurry to their grading.
  A cell's history (its events, its material's mixing) is read over the 14 days before its route ended.
  Incremental by factory day (the day the route ended).
-#}
with

cells as (

    select
        ocel_id as cell_id,
        production_date as made_on
    from {{ ref('object_by_day') }}
    where ocel_type = 'cell' and {{ production_date_window(days_before=14) }}

),

history as (

    select
        links.ocel_object_id as cell_id,
        links.ocel_qualifier,
        events.ocel_type as activity,
        events.ocel_time,
        events.production_date
    from {{ ref('event_object') }} as links
    inner join {{ ref('event') }} as events on links.ocel_event_id = events.ocel_id
    inner join cells on links.ocel_object_id = cells.cell_id
    where
        links.ocel_qualifier in ('created', 'processed', 'scrapped')
        and events.ocel_type <> 'Packing'
        and {{ production_date_window('links.production_date', days_before=14) }}
        and {{ production_date_window('events.production_date', days_before=14) }}

),

route_ends as (

    select
        cell_id,
        activity,
        ocel_time as ended_at,
        production_date,
        ocel_qualifier = 'scrapped' as scrapped,
        row_number() over (partition by cell_id order by ocel_time desc) as recency
    from history
    where ocel_qualifier = 'scrapped' or activity = '{{ var("final_activity") }}'

),

ended as (

    select
        route_ends.cell_id,
        route_ends.activity,
        route_ends.ended_at,
        route_ends.production_date,
        route_ends.scrapped
    from route_ends
    where route_ends.recency = 1 and {{ production_date_window('route_ends.production_date') }}

),

repeats as (

    select
        cell_id,
        count(*) - count(distinct activity) as repeated_steps
    from history
    group by cell_id

),

products as (

    select
        attributes.ocel_id as cell_id,
        max(attributes.value_str) as product_id
    from {{ ref('object_attribute_by_day') }} as attributes
    inner join ended on attributes.ocel_id = ended.cell_id
    where
        attributes.name = 'product'
        and {{ production_date_window('attributes.production_date', days_before=14) }}
    group by attributes.ocel_id

),

relations as (

    select
        ocel_source_id,
        ocel_target_id,
        ocel_qualifier
    from {{ ref('object_object_by_day') }}
    where {{ production_date_window(days_before=14) }}

),

mixing as (

    select
        links.ocel_object_id as slurry_id,
        min(events.ocel_time) as mixed_at
    from {{ ref('event_object') }} as links
    inner join {{ ref('event') }} as events on links.ocel_event_id = events.ocel_id
    where
        events.ocel_type = 'Mixing' and links.ocel_qualifier = 'output'
        and {{ production_date_window('links.production_date', days_before=14) }}
        and {{ production_date_window('events.production_date', days_before=14) }}
    group by links.ocel_object_id

),

slurry_mixed as (

    select
        ended.cell_id,
        min(mixing.mixed_at) as mixed_at
    from ended
    inner join relations as rolls
        on ended.cell_id = rolls.ocel_source_id and rolls.ocel_qualifier in ('anode from', 'cathode from')
    inner join relations as coils
        on rolls.ocel_target_id = coils.ocel_source_id and coils.ocel_qualifier = 'slit from'
    inner join relations as slurries
        on coils.ocel_target_id = slurries.ocel_source_id and slurries.ocel_qualifier = 'coated with'
    inner join mixing on slurries.ocel_target_id = mixing.slurry_id
    group by ended.cell_id

),

per_cell as (

    select
        ended.production_date,
        products.product_id,
        ended.scrapped,
        ended.activity = '{{ var("final_activity") }}' as graded,
        coalesce(repeats.repeated_steps, 0) = 0 as first_pass,
        case
            when ended.activity = '{{ var("final_activity") }}'
                then {{ seconds_between('slurry_mixed.mixed_at', 'ended.ended_at') }} / 3600.0
        end as slurry_to_grading_h
    from ended
    left join repeats on ended.cell_id = repeats.cell_id
    left join products on ended.cell_id = products.cell_id
    left join slurry_mixed on ended.cell_id = slurry_mixed.cell_id

)

select
    production_date,
    product_id,
    count(*) as cells_ended,
    count(case when not scrapped then 1 end) as cells_good,
    count(case when scrapped then 1 end) as cells_scrapped,
    count(case when scrapped and not graded then 1 end) as cells_scrapped_before_grading,
    count(case when first_pass and not scrapped then 1 end) as first_pass_good_cells,
    count(case when first_pass and not scrapped then 1 end)
    / cast(count(*) as double) as cell_first_pass_yield,
    count(slurry_to_grading_h) as graded_cells_with_lead_time,
    avg(slurry_to_grading_h) as slurry_to_grading_mean_h,
    {{ quantile_cont('slurry_to_grading_h', 0.5) }} as slurry_to_grading_p50_h,
    {{ quantile_cont('slurry_to_grading_h', 0.95) }} as slurry_to_grading_p95_h,
    max(slurry_to_grading_h) as slurry_to_grading_max_h
from per_cell
group by production_date, product_id
