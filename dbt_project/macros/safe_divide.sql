{#- numerator / denominator as DOUBLE, NULL (not an error, not 0) when the denominator is 0 or NULL. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
