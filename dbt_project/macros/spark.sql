{#- On Spark the sources are global temporary views over the committed log's files
    (ingest.warehouse.spark.register_sources): `global_temp.<source>__<table>`. -#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if target.type == 'spark' -%}
        {%- do return(relation.incorporate(path={
            'schema': 'global_temp', 'identifier': source_name ~ '__' ~ table_name})) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{% endmacro %}

{#- on-run-start: DuckDB's scalar functions that Spark lacks, as Spark SQL functions of the
    same name and meaning, so that the models' SQL reads the same on both engines. Only
    plain expressions can be defined so (no lambdas, no aggregates): the rest are
    dispatched macros. Their types are DuckDB's (isodow, isoyear and week are bigints).
    Spark cannot call them in the arguments of a generator (explode). On DuckDB: nothing. -#}
{% macro engine_functions() -%}
    {{ return(adapter.dispatch('engine_functions')()) }}
{%- endmacro %}

{% macro default__engine_functions() -%}
    select 1
{%- endmacro %}

{% macro spark__engine_functions() -%}
    {%- set functions = [
        'to_hours(h double) returns interval day to second return make_dt_interval(0, 0, 0, h * 3600)',
        'to_days(d int) returns interval day to second return make_dt_interval(d)',
        'strpos(s string, t string) returns int return instr(s, t)',
        'list_position(l array<string>, x string) returns int return array_position(l, x)',
        'epoch(t timestamp) returns double return unix_micros(t) / 1e6',
        'isodow(d date) returns bigint return (dayofweek(d) + 5) % 7 + 1',
        'isoyear(d date) returns bigint return extract(yearofweek from d)',
        'week(d date) returns bigint return weekofyear(d)',
    ] -%}
    {%- for f in functions if execute %}
        {%- call statement('engine_function_' ~ loop.index) -%}
            create or replace temporary function {{ f }}
        {%- endcall -%}
    {%- endfor %}
    select 1
{%- endmacro %}
