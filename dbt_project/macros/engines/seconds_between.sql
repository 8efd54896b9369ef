{#- The seconds from `start_ts` to `end_ts` (cast to timestamptz), as DOUBLE: an interval's duration_s. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    cast(epoch(cast({{ end_ts }} as timestamptz)) - epoch(cast({{ start_ts }} as timestamptz)) as double)
{%- endmacro %}
