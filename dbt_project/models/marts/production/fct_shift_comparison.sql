{#-
  Shifts compared fairly: each shift's output per staffed hour and OEE, the OEE adjusted for what the crew
  does not control (staffing level and the equipment available after planned maintenance) by a least-squares
  regression over the trailing 28 factory days, and 95 % confidence intervals of each crew's and each shift
  slot's adjusted OEE and output over those days, so that a ranking shows when two are not really different.
  The shift's figures come from fct_oee_machine_shift, where intervals crossing a shift change are split.
  Incremental by factory day; window from --vars (the fit reads the 27 days before it).
-#}
{%- set history_days = 27 %}
with

machine_shifts as (

    select * from {{ ref('fct_oee_machine_shift') }}
    where {{ production_date_window(days_before=history_days) }}

),

shifts as (

    select
        production_date,
        shift_id,
        duration_s / 3600.0 as shift_hours
    from {{ ref('stg_mes__shifts') }}
    where {{ production_date_window(days_before=history_days) }}

),

shift_sums as (

    select
        production_date,
        shift_id,
        any_value(shift_name) as shift_name,
        any_value(crew_id) as crew_id,
        any_value(staffed_headcount) as staffed_headcount,
        {{ oee_rollup_sums() }}
        cast(count(*) filter (where planned_busy_time_s > 0) as bigint) as machines_planned,
        cast(coalesce(sum(good_qty) filter (where activity = '{{ var("final_activity") }}'), 0) as bigint)
            as cells_completed
    from machine_shifts
    group by production_date, shift_id

),

shift_kpis as (

    select
        shift_sums.*,
        shifts.shift_hours,
        shift_sums.staffed_headcount * shifts.shift_hours as staffed_hours,
        {{ safe_divide('shift_sums.planned_busy_time_s', 'shift_sums.planned_operation_time_s') }}
            as equipment_share,
        {{ safe_divide('shift_sums.cells_completed', 'shift_sums.staffed_headcount * shifts.shift_hours') }}
            as output_per_staffed_hour,
        {{ iso22400_kpis('shift_sums.', planned_output='planned_runtime_of_output_s') }}
    from shift_sums
    left join shifts
        on shifts.production_date = shift_sums.production_date and shifts.shift_id = shift_sums.shift_id

),

-- the days this run writes: each gets its own fit over the 28 days ending with it
fit_days as (

    select distinct production_date as fit_date
    from shift_kpis
    where {{ production_date_window() }}

),

fit_sample as (

    select fit_days.fit_date, shift_kpis.*
    from fit_days
    inner join shift_kpis
        on shift_kpis.production_date >= fit_days.fit_date - interval {{ history_days }} day
            and shift_kpis.production_date <= fit_days.fit_date
            and shift_kpis.oee is not null

),

moments as (

    select
        fit_date,
        count(*) as n,
        avg(oee) as mean_oee,
        avg(staffed_headcount) as mean_headcount,
        avg(equipment_share) as mean_equipment,
        var_pop(staffed_headcount) as s11,
        var_pop(equipment_share) as s22,
        covar_pop(staffed_headcount, equipment_share) as s12,
        covar_pop(staffed_headcount, oee) as s1y,
        covar_pop(equipment_share, oee) as s2y
    from fit_sample
    group by fit_date

),

-- ordinary least squares with two regressors from the centred moments; a regressor that does not vary
-- (or two that move together) drops out rather than making the fit unstable
coefficients as (

    select
        fit_date,
        n,
        mean_oee,
        mean_headcount,
        mean_equipment,
        case
            when n >= 4 and s11 > 1e-12 and s22 > 1e-12 and s11 * s22 - s12 * s12 > 1e-9 * s11 * s22
                then (s22 * s1y - s12 * s2y) / (s11 * s22 - s12 * s12)
            when n >= 3 and s11 > 1e-12 then s1y / s11
            else 0
        end as coef_headcount,
        case
            when n >= 4 and s11 > 1e-12 and s22 > 1e-12 and s11 * s22 - s12 * s12 > 1e-9 * s11 * s22
                then (s11 * s2y - s12 * s1y) / (s11 * s22 - s12 * s12)
            when n >= 3 and s11 <= 1e-12 and s22 > 1e-12 then s2y / s22
            else 0
        end as coef_equipment
    from moments

),

adjusted as (

    select
        fit_sample.*,
        coefficients.n as model_shift_count,
        coefficients.coef_headcount,
        coefficients.coef_equipment,
        coefficients.mean_oee
        + coefficients.coef_headcount * (fit_sample.staffed_headcount - coefficients.mean_headcount)
        + coefficients.coef_equipment * (fit_sample.equipment_share - coefficients.mean_equipment)
            as expected_oee
    from fit_sample
    inner join coefficients on coefficients.fit_date = fit_sample.fit_date

),

residuals as (

    select
        *,
        -- the shift's OEE had it had the period's average staffing and equipment
        oee - expected_oee + avg(oee) over (partition by fit_date) as oee_adjusted
    from adjusted

),

{% for group in ['crew_id', 'shift_name'] %}
    {{ group }}_stats as (

        select
            fit_date,
            {{ group }},
            count(*) as n,
            avg(oee_adjusted) as mean_oee_adjusted,
            stddev_samp(oee_adjusted) / sqrt(count(*)) as se_oee_adjusted,
            avg(output_per_staffed_hour) as mean_output,
            stddev_samp(output_per_staffed_hour) / sqrt(count(*)) as se_output
        from residuals
        group by fit_date, {{ group }}

    ),
{% endfor %}

judged as (

    select
        residuals.*,
        crew.n as crew_shift_count_28d,
        crew.mean_oee_adjusted as crew_oee_adjusted_mean_28d,
        {{ t_quantile_975('crew.n - 1') }} * crew.se_oee_adjusted as crew_oee_adjusted_ci_half_width_28d,
        crew.mean_output as crew_output_per_staffed_hour_mean_28d,
        {{ t_quantile_975('crew.n - 1') }} * crew.se_output as crew_output_per_staffed_hour_ci_half_width_28d,
        slot.n as shift_name_count_28d,
        slot.mean_oee_adjusted as shift_name_oee_adjusted_mean_28d,
        {{ t_quantile_975('slot.n - 1') }} * slot.se_oee_adjusted as shift_name_oee_adjusted_ci_half_width_28d
    from residuals
    inner join crew_id_stats as crew
        on crew.fit_date = residuals.fit_date and crew.crew_id = residuals.crew_id
    inner join shift_name_stats as slot
        on slot.fit_date = residuals.fit_date and slot.shift_name = residuals.shift_name
    where residuals.production_date = residuals.fit_date

)

select
    production_date,
    cast(shift_id as {{ type_text() }}) as shift_id,
    cast(shift_name as {{ type_text() }}) as shift_name,
    cast(crew_id as {{ type_text() }}) as crew_id,
    cast(staffed_headcount as bigint) as staffed_headcount,
    cast(shift_hours as double) as shift_hours,
    cast(staffed_hours as double) as staffed_hours,
    cast(machines_planned as bigint) as machines_planned,
    cast(equipment_share as double) as equipment_share,
    cast(planned_busy_time_s as double) as planned_busy_time_s,
    cast(actual_production_time_s as double) as actual_production_time_s,
    cast(produced_qty as bigint) as produced_qty,
    cast(good_qty as bigint) as good_qty,
    cast(cells_completed as bigint) as cells_completed,
    cast(output_per_staffed_hour as double) as output_per_staffed_hour,
    cast(availability as double) as availability,
    cast(effectiveness as double) as effectiveness,
    cast(quality_ratio as double) as quality_ratio,
    cast(oee as double) as oee,
    cast(model_shift_count as bigint) as model_shift_count,
    cast(coef_headcount as double) as coef_headcount,
    cast(coef_equipment as double) as coef_equipment_share,
    cast(expected_oee as double) as expected_oee,
    cast(oee_adjusted as double) as oee_adjusted,
    cast(crew_shift_count_28d as bigint) as crew_shift_count_28d,
    cast(crew_oee_adjusted_mean_28d as double) as crew_oee_adjusted_mean_28d,
    cast(crew_oee_adjusted_mean_28d - crew_oee_adjusted_ci_half_width_28d as double)
        as crew_oee_adjusted_ci_low_28d,
    cast(crew_oee_adjusted_mean_28d + crew_oee_adjusted_ci_half_width_28d as double)
        as crew_oee_adjusted_ci_high_28d,
    cast(crew_output_per_staffed_hour_mean_28d as double) as crew_output_per_staffed_hour_mean_28d,
    cast(crew_output_per_staffed_hour_mean_28d - crew_output_per_staffed_hour_ci_half_width_28d as double)
        as crew_output_per_staffed_hour_ci_low_28d,
    cast(crew_output_per_staffed_hour_mean_28d + crew_output_per_staffed_hour_ci_half_width_28d as double)
        as crew_output_per_staffed_hour_ci_high_28d,
    cast(shift_name_count_28d as bigint) as shift_name_count_28d,
    cast(shift_name_oee_adjusted_mean_28d as double) as shift_name_oee_adjusted_mean_28d,
    cast(shift_name_oee_adjusted_mean_28d - shift_name_oee_adjusted_ci_half_width_28d as double)
        as shift_name_oee_adjusted_ci_low_28d,
    cast(shift_name_oee_adjusted_mean_28d + shift_name_oee_adjusted_ci_half_width_28d as double)
        as shift_name_oee_adjusted_ci_high_28d
from judged
