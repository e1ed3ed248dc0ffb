{#-
    What an incremental model has not seen yet.

    A model's watermark is the start of its last successful run: a row in
    `dbt_watermarks` (created on run start, written by the model's post-hook
    `save_watermark`). Events keyed after it (int_events_keyed.keyed_at) change records
    the model has not folded in. A failed or skipped model keeps its old watermark, so
    its next run catches up on everything it missed.
-#}

{#- Spark builds are full refreshes of tables (docs/beyond-one-machine.md): no incremental
    models, no watermarks, no delete hooks there. -#}
{% macro incremental_or_table() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}

{#- Spark: the sources are temporary views (ingest.warehouse.spark), which a stored view cannot
    name; a model that is a view on DuckDB is a table there. -#}
{% macro view_or_table() -%}
    {{ return('table' if target.type == 'spark' else 'view') }}
{%- endmacro %}

{#- `previous_through` is the watermark the model's last run started from: the changes
    since it are the ones that run wrote (see get_where_subquery). -#}
{% macro create_watermarks() -%}
    {{ return(adapter.dispatch('create_watermarks')()) }}
{%- endmacro %}

{% macro spark__create_watermarks() -%}
    select 1
{%- endmacro %}

{% macro default__create_watermarks() -%}
    create table if not exists {{ target.schema }}.dbt_watermarks (
        model_name varchar primary key,
        built_through timestamptz not null
    );
    alter table {{ target.schema }}.dbt_watermarks
    add column if not exists previous_through timestamptz
{%- endmacro %}

{% macro watermark(model_name=none, mark='built_through') -%}
    (
        select coalesce(max(watermarks.{{ mark }}), cast('-infinity' as timestamptz))
        from {{ target.schema }}.dbt_watermarks as watermarks
        where watermarks.model_name = '{{ model_name or this.identifier }}'
    )
{%- endmacro %}

{% macro save_watermark() -%}
    {{ return(adapter.dispatch('save_watermark')()) }}
{%- endmacro %}

{% macro spark__save_watermark() -%}
    select 1
{%- endmacro %}

{% macro default__save_watermark() -%}
    insert or replace into {{ target.schema }}.dbt_watermarks
    (model_name, built_through, previous_through)
    values (
        '{{ this.identifier }}',
        {{ run_started() }},
        {% if is_incremental() %}{{ watermark() }}{% else %}cast('-infinity' as timestamptz){% endif %}
    )
{%- endmacro %}

{#- Keys of the records changed since the watermark: each new event's record key, and the
    key `<feed_id>:<record id>` its record had before a missing link re-keyed it; only
    records of one `entity` (the staging model an event came through) if given. A test names the model and
    the keyed events' relation (ref() is for models). -#}
{% macro changed_record_keys(model_name=none, mark='built_through', keyed=none, entity=none) -%}
    {%- set keyed = keyed or ref('int_events_keyed') -%}
    {%- set since = watermark(model_name, mark) -%}
    {%- set of_entity = "and changed.entity = '" ~ entity ~ "'" if entity else '' -%}
    select changed.record_key from {{ keyed }} as changed
    where changed.keyed_at > {{ since }} {{ of_entity }}
    union
    select changed.feed_id || ':' || changed.record_id from {{ keyed }} as changed
    where changed.keyed_at > {{ since }} {{ of_entity }}
{%- endmacro %}

{#- Keys of the `entity` rows changed since the watermark: changed_record_keys, and for
    the entities resolved across feeds every report re-resolved since (by its record key;
    a delivery also by its key now). A delivery's key is its smallest record key, so a
    delivery that changed had one of these as its key before. A report whose incident
    changed, or whose incident's marking did, is re-resolved: a run re-resolves every
    report within reach of a change, and an incident's reports are each other's candidates
    (int_incidents_resolved). A test names the resolution's relation as it names the keyed
    events'. -#}
{% macro changed_keys(entity, model_name=none, mark='built_through', keyed=none, resolved=none) -%}
    {{ changed_record_keys(model_name, mark, keyed, entity) }}
    {%- if entity in ('delivery', 'incident') %}
        {%- set resolved = resolved or ref({'delivery': 'int_deliveries_resolved', 'incident': 'int_incidents_resolved'}[entity]) %}
        {%- set since = watermark(model_name, mark) %}
        {%- if entity == 'delivery' %}
    union
    select resolved.delivery_id from {{ resolved }} as resolved where resolved.resolved_at > {{ since }}
        {%- endif %}
    union
    select resolved.record_key from {{ resolved }} as resolved where resolved.resolved_at > {{ since }}
    {%- endif %}
{%- endmacro %}

{#- `column` names an `entity` row changed since the watermark (changed_keys): a predicate against the
    keys as constants, read when the model or test runs. Against constants DuckDB skips a
    large table's row groups by their min/max, and drops the scan when there are none
    (`false`); a subquery would be probed row by row, and even `in (null)` is scanned.
    Past 10,000 keys (a catch-up after a large load) the subquery is the cheaper SQL. -#}
{% macro is_changed(column, entity, model_name=none, mark='built_through', keyed=none, resolved=none) -%}
    {%- set changed = changed_keys(entity, model_name, mark, keyed, resolved) -%}
    {#- one row back, the keys already quoted: tens of thousands of keys through agate and a
        Jinja loop took seconds per call -#}
    {%- set most = 10000 -%}
    {%- set probe -%}
        select
            count(*) as key_count,
            case when count(*) <= {{ most }} then
                string_agg('''' || replace(changed_key, '''', '''''') || '''', ', ')
            end as quoted
        from ({{ changed }}) as changed_keys (changed_key)
    {%- endset -%}
    {%- set found = run_query(probe).rows[0] if execute else [0, none] -%}
    {%- if found[0] > most -%}
        {{ column }} in ({{ changed }})
    {%- elif found[0] == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({{ found[1] }})
    {%- endif -%}
{%- endmacro %}

{#- `column in ('value', ...)`, or `false` when there are no values. -#}
{% macro in_list(column, values) -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({% for value in values %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: in an incremental run, remove the rows whose key columns name a changed record
    (`keys`: key column -> the entity it names); the model then appends the current rows
    of those records. -#}
{% macro delete_changed(keys) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
        {%- for column, entity in keys.items() %}
            {{ is_changed(column, entity) }}{% if not loop.last %} or{% endif %}
        {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of a resolution (int_incidents_resolved, int_deliveries_resolved): changed
    reports that are no longer current in `folded` (retracted, excluded, or merged into an
    older record) leave it. -#}
{% macro delete_gone_reports(folded) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            record_key in ({{ changed_record_keys() }})
            and record_key not in (
                select folded.record_key from {{ folded }} as folded
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

{#- The ISO weeks (their Mondays) of every event of the `entity` records changed since the
    watermark: a changed record's state before the change was one of its events, so these
    are the weeks it was in before and is in now. For deliveries also the weeks of the
    reports re-resolved since (a delivery is dated by one of its reports). -#}
{% macro changed_weeks(entity) -%}
    select distinct {{ week_start('changed.occurred_at') }}
    from {{ ref('int_events_keyed') }} as changed
    where
        changed.entity = '{{ entity }}'
        and changed.record_key in ({{ changed_record_keys() }})
    {%- if entity == 'delivery' %}
    union
    select distinct {{ week_start('resolved.occurred_at') }}
    from {{ ref('int_deliveries_resolved') }} as resolved
    where resolved.resolved_at > {{ watermark() }}
    {%- endif %}
{%- endmacro %}

{#- Whether a row's `week_start` is in a week `changed_weeks(entity)` names; with
    `also_presence`, every week when a presence record changed (a 3W period spans many
    weeks). -#}
{% macro in_changed_weeks(entity, also_presence=false) -%}
    (week_start in ({{ changed_weeks(entity) }})
    {%- if also_presence %}
        or exists ({{ changed_record_keys(entity='presence') }})
    {%- endif %})
{%- endmacro %}

{#- Pre-hook: in an incremental run, remove the rows of the weeks in_changed_weeks names;
    the model then appends those weeks as they are now. -#}
{% macro delete_changed_weeks(entity, also_presence=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_changed_weeks(entity, also_presence) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
