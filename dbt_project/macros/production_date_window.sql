{#-
  The factory-day window of an incremental run, as a SQL predicate on `column`.

  Dagster passes the days of the partitions it materializes as inclusive bounds in the environment:
      GIGAFACTORY_MIN_DATE=2026-11-09 GIGAFACTORY_MAX_DATE=2026-11-11 dbt build
  and a person may pass them as vars: dbt build --vars '{"min_date": "2026-11-09", "max_date": "2026-11-11"}'
  (a var wins). With them the predicate is `column between min_date and max_date`, on the first build as on
  every later one (together with unique_key = production_date and delete+insert, a rerun of a window replaces
  exactly its days). Without them it is `true`: all dates. Either bound may be given alone.
  Why the environment: dbt parses the whole project again (~6 s) whenever the command line's vars change, so
  a var window costs every daily run a full parse; an environment variable read only at execution time
  (`execute`) is not part of what dbt parsed, and the next run parses only what changed.

  `days_before` / `days_after` widen the window: a mart whose rows depend on the next day (an outcome known only
  when the batch moves on) rebuilds the day before its window too, and reads its inputs a day beyond it.
-#}
{% macro window_bound(name) -%}
    {%- set value = var(name, none) -%}
    {%- if (value is none or (value | string | trim) == '') and execute -%}
        {%- set value = env_var('GIGAFACTORY_' ~ (name | upper), '') -%}
    {%- endif -%}
    {{- return(none if value is none or (value | string | trim) == '' else (value | string | trim)) -}}
{%- endmacro %}

{% macro production_date_window(column='production_date', days_before=0, days_after=0) -%}
    {%- set bounds = [] -%}
    {%- set window = {'min_date': window_bound('min_date'), 'max_date': window_bound('max_date')} -%}
    {%- for name, operator in [('min_date', '>='), ('max_date', '<=')] -%}
        {%- set value = window[name] -%}
        {%- if value is not none -%}
            {%- set day = value -%}
            {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', day) -%}
                {{ exceptions.raise_compiler_error(name ~ " must be a YYYY-MM-DD date, got " ~ day) }}
            {%- endif -%}
            {%- set shift = days_before if name == 'min_date' else days_after -%}
            {%- set sign = '-' if name == 'min_date' else '+' -%}
            {%- if shift -%}
                {%- do bounds.append(column ~ " " ~ operator ~ " date '" ~ day ~ "' " ~ sign ~ " interval " ~ shift ~ " day") -%}
            {%- else -%}
                {%- do bounds.append(column ~ " " ~ operator ~ " date '" ~ day ~ "'") -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if window.min_date and window.max_date and window.min_date > window.max_date -%}
        {{ exceptions.raise_compiler_error("min_date " ~ window.min_date ~ " is after max_date " ~ window.max_date) }}
    {%- endif -%}
    {%- if bounds -%}
        ({{ bounds | join(' and ') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
