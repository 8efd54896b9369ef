{#-
  on-run-start hook: (re)creates schema `raw` with one view per raw MES table over the Parquet lake
  ($GIGAFACTORY_LAKE/raw/<table>/date=YYYY-MM-DD/*.parquet), and schema `truth` likewise over the simulator's ground
  truth ($GIGAFACTORY_LAKE/truth/<table>/...), so that sources resolve and analysts can query raw.* and truth.* in
  the warehouse. The hive partition column `date` (the factory day) is read as a DATE.

  A table with no file yet gets an empty view with the column types declared for it in models/staging/_sources.yml,
  so that a lake holding only some tables still builds (its marts are simply empty) instead of failing on a
  read_parquet glob that matches nothing.
-#}
{% macro create_raw_views() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set lake = env_var('GIGAFACTORY_LAKE', '') | trim -%}
    {%- if lake == '' -%}
        {{ exceptions.raise_compiler_error("GIGAFACTORY_LAKE is not set: it must be the absolute path of the Parquet lake") }}
    {%- endif -%}
    {%- set lake = lake.rstrip('/') | replace("'", "''") -%}

    {%- set layers = {'mes': 'raw', 'truth': 'truth', 'quarantine': 'quarantine'} -%}
    {%- set statements = ['create schema if not exists raw', 'create schema if not exists truth', 'create schema if not exists quarantine'] -%}
    {%- for source_node in graph.sources.values() | selectattr('source_name', 'in', layers) | sort(attribute='unique_id') -%}
        {%- set layer = layers[source_node.source_name] -%}
        {%- set view = layer ~ '.' ~ adapter.quote(source_node.identifier) -%}
        {%- set files = lake ~ '/' ~ layer ~ '/' ~ source_node.name ~ '/date=*/*.parquet' -%}
        {%- set found = run_query("select count(*) from glob('" ~ files ~ "')").columns[0].values()[0] -%}
        {%- if found > 0 -%}
            {%- do statements.append(
                "create or replace view " ~ view ~ " as select * from read_parquet('" ~ files ~ "', "
                ~ "hive_partitioning = true, hive_types = {'date': date})"
            ) -%}
        {%- else -%}
            {%- set typed_nulls = [] -%}
            {%- for column in source_node.columns.values() -%}
                {%- if not column.data_type -%}
                    {{ exceptions.raise_compiler_error("source " ~ source_node.source_name ~ "." ~ source_node.name ~ "." ~ column.name ~ " needs a data_type") }}
                {%- endif -%}
                {%- do typed_nulls.append("cast(null as " ~ column.data_type ~ ") as " ~ adapter.quote(column.name)) -%}
            {%- endfor -%}
            {%- do log(layer ~ "." ~ source_node.name ~ ": no Parquet file under " ~ files ~ ", creating an empty view", info=true) -%}
            {%- do statements.append("create or replace view " ~ view ~ " as select " ~ typed_nulls | join(', ') ~ " where false") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{ return("select 1 /* raw views over " ~ lake ~ " */") }}
{% endmacro %}
