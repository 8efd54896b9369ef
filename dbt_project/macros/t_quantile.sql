{#-
  The 97.5 % quantile of Student's t with `df` degrees of freedom (the factor of a two-sided 95 % confidence
  interval): exact table values below 5 degrees of freedom, from 5 on the Cornish-Fisher expansion around the
  normal quantile 1.959964 (within 0.1 %: 2.5678 for 2.5706 at 5, exact to 4 places from 10). Null below 1.
-#}
{% macro t_quantile_975(df) -%}
    (case
        when ({{ df }}) < 1 then null
        when ({{ df }}) < 2 then 12.7062
        when ({{ df }}) < 3 then 4.3027
        when ({{ df }}) < 4 then 3.1824
        when ({{ df }}) < 5 then 2.7764
        else 1.959964
            + (pow(1.959964, 3) + 1.959964) / (4 * ({{ df }}))
            + (5 * pow(1.959964, 5) + 16 * pow(1.959964, 3) + 3 * 1.959964) / (96 * pow({{ df }}, 2))
            + (3 * pow(1.959964, 7) + 19 * pow(1.959964, 5) + 17 * pow(1.959964, 3) - 15 * 1.959964)
                / (384 * pow({{ df }}, 3))
    end)
{%- endmacro %}
