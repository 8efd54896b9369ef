{#-
  The SQL that differs between the warehouse engines (DuckDB, the default; Apache Spark through dbt-spark),
  each as an adapter-dispatched macro: models call these and never spell an engine's dialect themselves.
  `duckdb__` renders exactly what the models held before, so the DuckDB warehouse is unchanged.
-#}

{#- The text type of a cast: VARCHAR in DuckDB, STRING in Spark (whose VARCHAR needs a length). -#}
{% macro type_text() -%}
    {{- return(adapter.dispatch('type_text', 'gigafactory')()) -}}
{%- endmacro %}
{% macro default__type_text() -%}varchar{%- endmacro %}
{% macro spark__type_text() -%}string{%- endmacro %}

{#- An instant in UTC: TIMESTAMPTZ in DuckDB; Spark's TIMESTAMP is one (local time zone, the session's UTC). -#}
{% macro type_timestamp_utc() -%}
    {{- return(adapter.dispatch('type_timestamp_utc', 'gigafactory')()) -}}
{%- endmacro %}
{% macro default__type_timestamp_utc() -%}timestamptz{%- endmacro %}
{% macro spark__type_timestamp_utc() -%}timestamp{%- endmacro %}

{#- Seconds since 1970-01-01 UTC of an instant, with its fraction, as DOUBLE. -#}
{% macro epoch_seconds(ts) -%}
    {{- return(adapter.dispatch('epoch_seconds', 'gigafactory')(ts)) -}}
{%- endmacro %}
{% macro default__epoch_seconds(ts) -%}epoch({{ ts }}){%- endmacro %}
{#- DuckDB's epoch in its own arithmetic, to the last bit: whole milliseconds / 1e3 plus the remaining
    microseconds x 1e-6, in DOUBLE (checked on 240k instants of the demo days; microseconds x 1e-6 or / 1e6
    round differently in the last bits of about one in five). -#}
{% macro spark__epoch_seconds(ts) -%}
    ((unix_micros({{ ts }}) div 1000) / 1e3 + pmod(unix_micros({{ ts }}), 1000) * 1e-6)
{%- endmacro %}

{#- The start of the UTC hour of an instant, as an instant, whatever the session's zone. -#}
{% macro utc_hour_start(ts) -%}
    {{- return(adapter.dispatch('utc_hour_start', 'gigafactory')(ts)) -}}
{%- endmacro %}
{% macro default__utc_hour_start(ts) -%}
    {#- timestamptz -> UTC wall clock -> hour -> timestamptz -#}
    timezone('UTC', date_trunc('hour', timezone('UTC', {{ ts }})))
{%- endmacro %}
{% macro spark__utc_hour_start(ts) -%}
    to_utc_timestamp(date_trunc('hour', from_utc_timestamp({{ ts }}, 'UTC')), 'UTC')
{%- endmacro %}

{#- One row per hour from `first` to `last` (both instants, inclusive): a set-returning select expression. -#}
{% macro hour_series(first, last) -%}
    {{- return(adapter.dispatch('hour_series', 'gigafactory')(first, last)) -}}
{%- endmacro %}
{% macro default__hour_series(first, last) -%}
    unnest(generate_series(
            {{ first }},
            {{ last }},
            interval 1 hour
        ))
{%- endmacro %}
{% macro spark__hour_series(first, last) -%}
    explode(sequence({{ first }}, {{ last }}, interval 1 hour))
{%- endmacro %}

{#- The value of `value` on the row with the least (arg_min) or greatest (arg_max) `ordering`. -#}
{% macro arg_min(value, ordering) -%}
    {{- return(adapter.dispatch('arg_min', 'gigafactory')(value, ordering)) -}}
{%- endmacro %}
{% macro default__arg_min(value, ordering) -%}arg_min({{ value }}, {{ ordering }}){%- endmacro %}
{% macro spark__arg_min(value, ordering) -%}min_by({{ value }}, {{ ordering }}){%- endmacro %}

{% macro arg_max(value, ordering) -%}
    {{- return(adapter.dispatch('arg_max', 'gigafactory')(value, ordering)) -}}
{%- endmacro %}
{% macro default__arg_max(value, ordering) -%}arg_max({{ value }}, {{ ordering }}){%- endmacro %}
{% macro spark__arg_max(value, ordering) -%}max_by({{ value }}, {{ ordering }}){%- endmacro %}

{#- The English name of a date's weekday (Monday ... Sunday). -#}
{% macro weekday_name(day) -%}
    {{- return(adapter.dispatch('weekday_name', 'gigafactory')(day)) -}}
{%- endmacro %}
{% macro default__weekday_name(day) -%}dayname({{ day }}){%- endmacro %}
{% macro spark__weekday_name(day) -%}date_format({{ day }}, 'EEEE'){%- endmacro %}

{#- A source column's declared type (models/staging/_sources.yml, DuckDB's names) in the engine's words. -#}
{% macro engine_type(data_type) -%}
    {{- return(adapter.dispatch('engine_type', 'gigafactory')(data_type)) -}}
{%- endmacro %}
{% macro default__engine_type(data_type) -%}{{ data_type }}{%- endmacro %}
{% macro spark__engine_type(data_type) -%}
    {%- set known = {'varchar': 'string', 'timestamp with time zone': 'timestamp', 'timestamptz': 'timestamp'} -%}
    {{- known.get(data_type | lower | trim, data_type) -}}
{%- endmacro %}

{#- The `fraction` quantile of `value` with linear interpolation between the two nearest values (exact). -#}
{% macro quantile_cont(value, fraction) -%}
    {{- return(adapter.dispatch('quantile_cont', 'gigafactory')(value, fraction)) -}}
{%- endmacro %}
{% macro default__quantile_cont(value, fraction) -%}quantile_cont({{ value }}, {{ fraction }}){%- endmacro %}
{% macro spark__quantile_cont(value, fraction) -%}percentile({{ value }}, {{ fraction }}){%- endmacro %}
