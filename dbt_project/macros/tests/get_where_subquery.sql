{#-
  Overrides dbt's get_where_subquery (the `where` config of data tests) so that a `where` may contain the
  placeholder __production_date_window__, replaced by the run's factory-day window (macros/production_date_window.sql).
  dbt_project.yml sets it for every data test of the project: a partitioned run tests only the days it rebuilt, a
  run without vars tests everything. (dbt does not allow custom macros in YAML test configs, hence the placeholder.)
  A test on a model without production_date must set its own `where` (or `where: "true"`).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__production_date_window__', production_date_window()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
