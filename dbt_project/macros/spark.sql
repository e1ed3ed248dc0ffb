{#- On Spark the sources are global temporary views over the committed log's files
    (ingest.spark_target.register_sources): `global_temp.<source>__<table>`. -#}
{% macro source(source_name, table_name) %}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if target.type == 'spark' -%}
        {%- do return(relation.incorporate(path={
            'schema': 'global_temp', 'identifier': source_name ~ '__' ~ table_name})) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{% endmacro %}
