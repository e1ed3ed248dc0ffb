{#- The staging models per entity: the one place that lists which feeds report what. -#}
{% macro feed_models(entity) -%}
    {%- set models = {
        'incident': ['stg_unmic__sitreps', 'stg_moi__incidents', 'stg_cpn__incidents'],
        'delivery': ['stg_ocha__deliveries', 'stg_fap__distributions'],
        'patrol': ['stg_forcar__patrols', 'stg_ncbatt__patrols'],
    } -%}
    {%- if entity == 'all' -%}
        {{ return(models['incident'] + models['delivery'] + models['patrol']) }}
    {%- else -%}
        {{ return(models[entity]) }}
    {%- endif -%}
{%- endmacro %}

{#- The envelope columns every staging model carries first. -#}
{% macro envelope_columns() -%}
    {{ return(['event_id', 'feed_id', 'agency_id', 'event_type', 'record_id', 'supersedes',
               'is_retraction', 'occurred_at', 'recorded_at', 'releasability', 'source_ref', 'load_id']) }}
{%- endmacro %}

{#- Envelope columns of a source event, renamed to the common vocabulary. -#}
{% macro staged_envelope() -%}
        event_id,
        feed_id,
        agency_id,
        event_type,
        record_id,
        supersedes,
        event_type like '%.retracted' or event_type like '%.cancelled' as is_retraction,
        occurred_at,
        recorded_at,
        releasability,
        source_ref,
        load_id
{%- endmacro %}
