{#-
  The sum of a double expression, the same on every engine: each row's value is fixed to 9 decimals and the
  decimals are summed exactly, then returned as a double. A plain sum of doubles depends on the order the
  engine adds the rows in (Spark's partitions, DuckDB's threads), and a money figure can then round to
  another cent on another engine or run. `where`: the aggregate's filter, if any.
-#}
{% macro exact_sum(expression, where=none) -%}
    cast(sum(cast({{ expression }} as decimal(38, 9))){% if where %} filter (where {{ where }}){% endif %} as double)
{%- endmacro %}
