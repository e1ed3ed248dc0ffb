{#-
    What an incremental model has not seen yet.

    A model's watermark is the start of its last successful run: a row in
    `dbt_watermarks` (created on run start, written by the model's post-hook
    `save_watermark`). Events keyed after it (int_events_keyed.keyed_at) change records
    the model has not folded in. A failed or skipped model keeps its old watermark, so
    its next run catches up on everything it missed.
-#}

{% macro create_watermarks() -%}
    create table if not exists {{ target.schema }}.dbt_watermarks (
        model_name varchar primary key,
        built_through timestamptz not null
    )
{%- endmacro %}

{% macro watermark() -%}
    (
        select coalesce(max(watermarks.built_through), cast('-infinity' as timestamptz))
        from {{ target.schema }}.dbt_watermarks as watermarks
        where watermarks.model_name = '{{ this.identifier }}'
    )
{%- endmacro %}

{% macro save_watermark() -%}
    insert or replace into {{ target.schema }}.dbt_watermarks
    values ('{{ this.identifier }}', {{ run_started() }})
{%- endmacro %}

{#- Keys of the records changed since the watermark: each new event's record key, and the
    key `<feed_id>:<record id>` its record had before a missing link re-keyed it. -#}
{% macro changed_record_keys() -%}
    select changed.record_key from {{ ref('int_events_keyed') }} as changed
    where changed.keyed_at > {{ watermark() }}
    union
    select changed.feed_id || ':' || changed.record_id from {{ ref('int_events_keyed') }} as changed
    where changed.keyed_at > {{ watermark() }}
{%- endmacro %}

{#- Pre-hook: in an incremental run, remove the rows whose key columns name a changed record;
    the model then appends the current rows of those records. -#}
{% macro delete_changed(key_columns) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
        {%- for column in key_columns %}
            {{ column }} in ({{ changed_record_keys() }}){% if not loop.last %} or{% endif %}
        {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of int_incidents_resolved: changed reports that are no longer current
    (retracted, excluded, or merged into an older record) leave the resolution. -#}
{% macro delete_gone_reports() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            record_key in ({{ changed_record_keys() }})
            and record_key not in (
                select folded.record_key from {{ ref('int_incidents_folded') }} as folded
                where not folded.is_retracted and not folded.is_excluded
            )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of fct_incidents: remove every incident that had a report re-resolved or
    changed since the last build; the model then inserts those reports' incidents as
    they are now. -#}
{% macro delete_changed_incidents() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where incident_id in (
            select sources.incident_id
            from (
                select incident_id, unnest(source_record_keys) as record_key from {{ this }}
            ) as sources
            where
                sources.record_key in (
                    select resolved.record_key from {{ ref('int_incidents_resolved') }} as resolved
                    where resolved.resolved_at > {{ watermark() }}
                )
                or sources.record_key in ({{ changed_record_keys() }})
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
