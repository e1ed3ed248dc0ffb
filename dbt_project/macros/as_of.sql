{#- The run's start as a TIMESTAMPTZ literal: marks the rows a build run wrote. -#}
{% macro run_started() -%}
    cast('{{ run_started_at.isoformat() }}' as {{ sql_type('timestamptz') }})
{%- endmacro %}

{#- The moment the build is "as known at", as a TIMESTAMPTZ literal: PEACEOPS_AS_OF
    (ingest.warehouse.runner.AS_OF_ENV) or the run's start. Read only when a node runs:
    an env var read while dbt parses is one partial parsing compares, and this one changes
    every build. -#}
{% macro as_of() -%}
    {%- set value = (env_var('PEACEOPS_AS_OF', '') if execute else '') or run_started_at.isoformat() -%}
    cast('{{ value }}' as {{ sql_type('timestamptz') }})
{%- endmacro %}

{#- Known at as_of: its load known by then (committed, or back-dated to then: the row's
    `known_at`), and not retired by a replay known by then. -#}
{% macro known_at_as_of() -%}
    known_at <= {{ as_of() }} and (retired_at is null or retired_at > {{ as_of() }})
{%- endmacro %}

{#- The events of a source as known at as_of; in an incremental run only loads the model does
    not hold yet. Not "newer than the newest held": a load id is taken when the load begins,
    so a slow load can commit after loads with newer ids have been built. Rows keep their
    load id through compaction. -#}
{% macro events_as_of(relation) -%}
    select * {{ all_but() }} (retired_at)
    from {{ relation }}
    where {{ known_at_as_of() }}
    {%- if is_incremental() %}
        and {{ unheld_loads('load_id', [relation]) }}
    {%- endif %}
{%- endmacro %}

{#- `column` names a load of `relations` that `this` does not hold yet: a predicate against
    the load ids as constants, read when the model runs. Against constants DuckDB skips
    the Parquet files and row groups of every other load; a NOT IN subquery would read
    every column of every event before dropping them. -#}
{% macro unheld_loads(column, relations) -%}
    {%- if execute -%}
        {%- set query -%}
            select loaded.load_id from (
                {% for relation in relations %}
                    select load_id from {{ relation }}
                    {% if not loop.last %}union{% endif %}
                {% endfor %}
            ) as loaded
            where loaded.load_id is not null
            except
            select held.load_id from {{ this }} as held
        {%- endset -%}
        {%- set ids = run_query(query).columns[0].values() -%}
    {%- else -%}
        {%- set ids = [] -%}
    {%- endif -%}
    {{ in_list(column, ids) }}
{%- endmacro %}
