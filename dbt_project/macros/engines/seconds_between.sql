{#- The seconds from `start_ts` to `end_ts` (cast to an instant in UTC), as DOUBLE: an interval's duration_s. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {%- set instant = type_timestamp_utc() -%}
    cast({{ epoch_seconds('cast(' ~ end_ts ~ ' as ' ~ instant ~ ')') }}
        - {{ epoch_seconds('cast(' ~ start_ts ~ ' as ' ~ instant ~ ')') }} as double)
{%- endmacro %}
