{#-
  Process capability per factory day, characteristic, product and machine. Cp / Cpk use the within-process
  sigma of an individuals chart (mean moving range of consecutive samples / 1.128); Pp / Ppk the overall sample
  standard deviation. The sums are kept so that any period can be rolled up exactly (n, sum, sum of squares,
  moving ranges). Incremental by factory day; window from --vars.
-#}
with

samples as (

    select
        production_date,
        characteristic,
        product_id,
        machine_id,
        any_value(activity) over (
            partition by production_date, characteristic, product_id, machine_id
        ) as activity,
        unit,
        measured_value,
        lsl,
        usl,
        in_spec,
        abs(measured_value - lag(measured_value) over (
            partition by production_date, characteristic, product_id, machine_id
            order by measured_ts, measurement_id
        )) as moving_range
    from {{ ref('fct_quality_measurements') }}
    where {{ production_date_window() }}
        and measured_value is not null

),

sums as (

    select
        production_date,
        characteristic,
        product_id,
        machine_id,
        any_value(activity) as activity,
        any_value(unit) as unit,
        -- the product's limits; if they changed within the day, the tightest in force
        max(lsl) as lsl,
        min(usl) as usl,
        count(*) as sample_count,
        count(*) filter (where not in_spec) as out_of_spec_count,
        sum(measured_value) as sum_value,
        sum(measured_value * measured_value) as sum_squared_value,
        avg(measured_value) as mean_value,
        stddev_samp(measured_value) as overall_sigma,
        count(moving_range) as moving_range_count,
        sum(moving_range) as moving_range_sum
    from samples
    group by production_date, characteristic, product_id, machine_id

),

capability as (

    select
        *,
        moving_range_sum / nullif(moving_range_count, 0) / 1.128 as within_sigma
    from sums

)

select
    production_date,
    cast(characteristic as {{ type_text() }}) as characteristic,
    cast(product_id as {{ type_text() }}) as product_id,
    cast(machine_id as {{ type_text() }}) as machine_id,
    cast(activity as {{ type_text() }}) as activity,
    cast(unit as {{ type_text() }}) as unit,
    cast(lsl as double) as lsl,
    cast(usl as double) as usl,
    cast(sample_count as bigint) as sample_count,
    cast(out_of_spec_count as bigint) as out_of_spec_count,
    cast(sum_value as double) as sum_value,
    cast(sum_squared_value as double) as sum_squared_value,
    cast(moving_range_count as bigint) as moving_range_count,
    cast(moving_range_sum as double) as moving_range_sum,
    cast(mean_value as double) as mean_value,
    cast(overall_sigma as double) as overall_sigma,
    cast(within_sigma as double) as within_sigma,
    cast((usl - lsl) / nullif(6 * within_sigma, 0) as double) as cp,
    cast(least(usl - mean_value, mean_value - lsl) / nullif(3 * within_sigma, 0) as double) as cpk,
    cast((usl - lsl) / nullif(6 * overall_sigma, 0) as double) as pp,
    cast(least(usl - mean_value, mean_value - lsl) / nullif(3 * overall_sigma, 0) as double) as ppk
from capability
