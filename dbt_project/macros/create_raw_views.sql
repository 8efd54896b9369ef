{#-
  on-run-start hook: (re)creates schema `raw` with one view per raw MES table over the Parquet lake
  ($GIGAFACTORY_LAKE/raw/<table>/date=YYYY-MM-DD/*.parquet), and schema `truth` likewise over the simulator's ground
  truth ($GIGAFACTORY_LAKE/truth/<table>/...), the row gate's quarantine and the simulated plant's per-cell genealogy
  ($GIGAFACTORY_LAKE/genealogy/<table>/..., read by the ocel models), so that sources resolve and analysts can query
  raw.* and truth.* in the warehouse. The hive partition column `date` (the factory day) is read as a DATE.

  A table with no file yet gets an empty view with the column types declared for it in models/staging/_sources.yml,
  so that a lake holding only some tables still builds (its marts are simply empty) instead of failing on a
  read_parquet glob that matches nothing.

  Engine-specific (adapter.dispatch): DuckDB makes views over read_parquet globs; Spark declares each source as an
  external Parquet table over its folder, partitioned by `date`, with the columns' declared types (a folder with no
  file yet reads as an empty table), so a plant can point the lake at object storage. The factory days are found by
  listing the folder at each read (spark.sql.hive.manageFilesourcePartitions false in the profile), so a day landed
  after the tables were declared is read without a repair.
-#}
{% macro create_raw_views() %}
    {{- return(adapter.dispatch('create_raw_views', 'gigafactory')()) -}}
{% endmacro %}

{% macro lake_root() %}
    {%- set lake = env_var('GIGAFACTORY_LAKE', '') | trim -%}
    {%- if lake == '' -%}
        {{ exceptions.raise_compiler_error("GIGAFACTORY_LAKE is not set: it must be the absolute path of the Parquet lake") }}
    {%- endif -%}
    {{- return(lake.rstrip('/') | replace("'", "''")) -}}
{% endmacro %}

{% macro default__create_raw_views() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set lake = lake_root() -%}

    {%- set layers = {'mes': 'raw', 'truth': 'truth', 'quarantine': 'quarantine', 'genealogy': 'genealogy'} -%}
    {%- set statements = [] -%}
    {%- for schema in layers.values() -%}
        {%- do statements.append('create schema if not exists ' ~ schema) -%}
    {%- endfor -%}
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

{% macro spark__create_raw_views() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set lake = lake_root() -%}
    {%- set layers = {'mes': 'raw', 'truth': 'truth', 'quarantine': 'quarantine', 'genealogy': 'genealogy'} -%}
    {%- set statements = [] -%}
    {%- for schema in layers.values() -%}
        {%- do statements.append('create schema if not exists ' ~ schema) -%}
    {%- endfor -%}
    {%- for source_node in graph.sources.values() | selectattr('source_name', 'in', layers) | sort(attribute='unique_id') -%}
        {%- set layer = layers[source_node.source_name] -%}
        {%- set table = layer ~ '.' ~ adapter.quote(source_node.identifier) -%}
        {%- set columns = [] -%}
        {%- for column in source_node.columns.values() -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error("source " ~ source_node.source_name ~ "." ~ source_node.name ~ "." ~ column.name ~ " needs a data_type") }}
            {%- endif -%}
            {%- do columns.append(adapter.quote(column.name) ~ " " ~ engine_type(column.data_type)) -%}
        {%- endfor -%}
        {%- do statements.append("drop table if exists " ~ table) -%}
        {%- do statements.append(
            "create table " ~ table ~ " (" ~ columns | join(', ') ~ ") using parquet partitioned by (`date`) "
            ~ "location '" ~ lake ~ "/" ~ layer ~ "/" ~ source_node.name ~ "'"
        ) -%}
    {%- endfor -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{ return("select 1 /* raw tables over " ~ lake ~ " */") }}
{% endmacro %}
