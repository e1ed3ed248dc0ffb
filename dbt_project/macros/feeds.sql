{#- The staging model of each entity: every feed of that entity, read through its contract. -#}
{% macro staging_model(entity) -%}
    {{ return({
        'incident': 'stg_eventlog__incidents',
        'delivery': 'stg_eventlog__deliveries',
        'patrol': 'stg_eventlog__patrols',
        'presence': 'stg_eventlog__presence',
    }[entity]) }}
{%- endmacro %}

{#- The entities a feed's records can be (feeds.yaml `entity`, but for none: kept raw). -#}
{% macro entities() -%}
    {{ return(['incident', 'delivery', 'patrol', 'presence']) }}
{%- endmacro %}

{% macro staging_models() -%}
    {%- set models = [] -%}
    {%- for entity in entities() %}{% do models.append(staging_model(entity)) %}{% endfor -%}
    {{ return(models) }}
{%- endmacro %}

{#- The envelope columns every staging model carries first. -#}
{% macro envelope_columns() -%}
    {{ return(['event_id', 'feed_id', 'agency_id', 'event_type', 'record_id', 'supersedes',
               'is_retraction', 'occurred_at', 'recorded_at', 'known_at', 'releasability', 'source_ref',
               'load_id']) }}
{%- endmacro %}

{#- Envelope columns of a source event, as stored. -#}
{% macro staged_envelope() -%}
        event_id,
        feed_id,
        agency_id,
        event_type,
        record_id,
        supersedes,
        occurred_at,
        recorded_at,
        known_at,
        releasability,
        source_ref,
        load_id
{%- endmacro %}

{#-
    The events of one entity renamed to the staging columns: one branch per feed, each
    reading the feed's payload through the SQL its contract compiles to (var
    `peaceops_contract`, from feeds.yaml by ingest.feeds.contract.dbt_contract; the build passes
    it): its columns read the payload's fields as items of one list (the feed's `fields`),
    extracted in one parse. `empty` lists every staging column of the entity as a typed
    NULL: what a feed's SQL leaves out (never, from the build; a unit test gives only what
    it exercises) and what an entity no feed reports gives, with no rows.
-#}
{% macro stage_feeds(entity, relation) -%}
    {{ return(adapter.dispatch('stage_feeds')(entity, relation)) }}
{%- endmacro %}

{% macro default__stage_feeds(entity, relation) -%}
    {%- set contract = var('peaceops_contract', {}).get(entity, {}) -%}
    {%- set empty = contract.get('empty', {}) -%}
    {%- set branches = contract.get('feeds') or [{'id': none, 'sql': {}}] -%}
    {%- for feed in branches %}
        select
            {{ staged_envelope() }}
            {%- for column, null in empty.items() %},
            {{ feed.sql.get(column, null) }} as {{ column }}
            {%- endfor %}
        from (
            select *{{ ', ' ~ feed.fields if feed.fields }}
            from {{ relation }}
            where {% if feed.id %}feed_id = '{{ feed.id }}'{% else %}false{% endif %}
        )
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- On Spark the contract's columns are already on the source's rows: ingest.warehouse.spark
    computes them with the same contract SQL, in DuckDB inside Spark's workers
    (docs/beyond-one-machine.md, "The feeds' contract"). -#}
{% macro spark__stage_feeds(entity, relation) -%}
    {%- set contract = var('peaceops_contract', {}).get(entity, {}) -%}
    {%- set feeds = contract.get('feeds') or [] -%}
        select
            {{ staged_envelope() }}
            {%- for column in contract.get('empty', {}) %},
            {{ column }}
            {%- endfor %}
        from {{ relation }}
        where {% if feeds %}feed_id in ({% for feed in feeds %}'{{ feed.id }}'{{ ', ' if not loop.last }}{% endfor %}){% else %}false{% endif %}
{%- endmacro %}
