{#- The moment the build is "as known at": var('as_of') or the run's start, as a TIMESTAMPTZ literal. -#}
{#- The run's start as a TIMESTAMPTZ literal: marks the rows a build run wrote. -#}
{% macro run_started() -%}
    cast('{{ run_started_at.isoformat() }}' as timestamptz)
{%- endmacro %}

{% macro as_of() -%}
    {%- set value = var('as_of', none) or run_started_at.isoformat() -%}
    cast('{{ value }}' as timestamptz)
{%- endmacro %}

{#- The events of a source as known at as_of; in an incremental run only loads the model does
    not hold yet. Not "newer than the newest held": a load id is taken when the load begins,
    so a slow load can commit after loads with newer ids have been built. Rows keep their
    load id through compaction. -#}
{% macro events_as_of(relation) -%}
    select *
    from {{ relation }}
    where recorded_at <= {{ as_of() }}
    {%- if is_incremental() %}
        and load_id not in (
            select distinct existing.load_id from {{ this }} as existing
            where existing.load_id is not null
        )
    {%- endif %}
{%- endmacro %}
