{#-
  The factory-day window of an incremental run, as a SQL predicate on `column`.

  Dagster passes the days of the partitions it materializes as inclusive vars:
      dbt build --vars '{"min_date": "2026-11-09", "max_date": "2026-11-11"}'
  With them the predicate is `column between min_date and max_date`, on the first build as on every later one
  (together with unique_key = production_date and delete+insert, a rerun of a window replaces exactly its days).
  Without them it is `true`: all dates. Either bound may be given alone.

  `days_before` / `days_after` widen the window: a mart whose rows depend on the next day (an outcome known only
  when the batch moves on) rebuilds the day before its window too, and reads its inputs a day beyond it.
-#}
{% macro production_date_window(column='production_date', days_before=0, days_after=0) -%}
    {%- set bounds = [] -%}
    {%- for name, operator in [('min_date', '>='), ('max_date', '<=')] -%}
        {%- set value = var(name, none) -%}
        {%- if value is not none and (value | string | trim) != '' -%}
            {%- set day = value | string | trim -%}
            {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', day) -%}
                {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a YYYY-MM-DD date, got " ~ day) }}
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
    {%- if var('min_date', none) and var('max_date', none)
          and (var('min_date') | string | trim) > (var('max_date') | string | trim) -%}
        {{ exceptions.raise_compiler_error("var min_date " ~ var('min_date') ~ " is after max_date " ~ var('max_date')) }}
    {%- endif -%}
    {%- if bounds -%}
        ({{ bounds | join(' and ') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
