{#-
    Fold the events of one entity into the current state of each record, as of as_of.

    Events of a record (same record_key, see int_events_keyed) are ordered by when the
    hub knew them (known_at: their load's commit), then recorded_at and load_id, then by
    their depth in the supersedes chain, then by event id; the last one is the record's
    state: a correction replaces
    the state, a retraction removes the record (kept here with is_retracted = true so that
    an incremental build can overwrite an earlier state; marts filter it out).

    Incremental: only records touched by events keyed in this run are re-folded
    (delete+insert on record_key); a pre-hook removes records whose key was merged into
    an older chain when a missing link arrived.
-#}
{% macro fold_events(entity) -%}

with

keyed as (
    select
        event_id,
        record_key,
        chain_depth,
        keyed_at
    from {{ ref('int_events_keyed') }}
    {% if is_incremental() %}
        where record_key in (
            select touched.record_key from {{ ref('int_events_keyed') }} as touched
            where touched.keyed_at > {{ folded_through() }}
        )
    {% endif %}
),

events as (
    -- what the fold orders and counts by: the chosen event's other columns are joined to it
    -- after (carried through the windows, they made the fold take half as long again)
    select
        staged.event_id,
        staged.supersedes is not null and not staged.is_retraction as is_correction,
        staged.recorded_at,
        staged.known_at,
        staged.load_id,
        {{ releasability_rank('staged.releasability') }} as releasability_rank,
        keyed.record_key,
        keyed.chain_depth,
        keyed.keyed_at
    from {{ ref(staging_model(entity)) }} as staged
    inner join keyed on staged.event_id = keyed.event_id
),

event_counts as (
    select
        record_key,
        count(*) as event_count
    from events
    group by record_key
),

single_latest as (
    -- a record of one event (most records) is that event: nothing to order (sorted with
    -- the others, the incident fold took 26-41 s alone at 10M events; without, 15-23 s)
    select
        events.event_id as latest_event_id,
        events.record_key,
        events.chain_depth,
        {{ list_literal(['events.event_id']) }} as event_ids,
        event_counts.event_count,
        cast(events.is_correction as bigint) as correction_count,
        events.recorded_at as first_recorded_at,
        events.keyed_at as folded_at,
        events.releasability_rank as strictest_rank
    from events
    inner join event_counts on events.record_key = event_counts.record_key
    where event_counts.event_count = 1
),

ordered as (
    select
        *,
        -- the last in the order of knowledge is the state: one sort serves both windows
        -- (ordered the other way for the state, it was a second sort: 2.4 s of 21.9 at 10M)
        row_number() over known as event_rank,
        {{ list_agg('event_id') }} over history as event_ids,
        count(*) over history as event_count,
        count(*) filter (where is_correction) over history as correction_count,
        min(recorded_at) over history as first_recorded_at,
        max(keyed_at) over history as folded_at,
        max(releasability_rank) over history as strictest_rank
    from events
    where events.record_key in (
        select event_counts.record_key from event_counts where event_counts.event_count > 1
    )
    window
        known as (partition by record_key order by {{ known_order() }}),
        history as (
            partition by record_key
            order by {{ known_order() }}
            rows between unbounded preceding and unbounded following
        )
),

multi_latest as (
    select
        event_id as latest_event_id,
        record_key,
        chain_depth,
        event_ids,
        event_count,
        correction_count,
        first_recorded_at,
        folded_at,
        strictest_rank
    from ordered
    where event_rank = event_count
),

latest as (
    -- (the columns of single_latest, in its order)
    select * from single_latest
    union all
    select * from multi_latest
)

select
    * {{ all_but() }} (latest_event_id, is_retraction, releasability, strictest_rank),
    {{ releasability_levels() }}[strictest_rank] as releasability,
    is_retraction as is_retracted
from {{ ref(staging_model(entity)) }} as staged
inner join latest on staged.event_id = latest.latest_event_id

{%- endmacro %}

{#- The configuration of every fold: one row per record, re-folded by record key in an
    incremental run, after the pre-hook removed the records re-keyed since. -#}
{% macro fold_config() -%}
    {{
        config(
            materialized=incremental_or_table(),
            unique_key='record_key',
            incremental_strategy='delete+insert',
            pre_hook="{{ delete_rekeyed_records() }}",
        )
    }}
{%- endmacro %}

{#- The newest keyed event the fold holds, as a constant: against a constant DuckDB skips
    the keyed events' row groups by their min/max; against a subquery it reads them all. -#}
{% macro folded_through() -%}
    {%- set found = run_query('select max(folded_at) from ' ~ this).columns[0].values()[0] if execute else none -%}
    {%- if found is none -%}
        cast('-infinity' as timestamptz)
    {%- else -%}
        cast('{{ found.isoformat() }}' as timestamptz)
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: in an incremental run, records whose latest event was keyed again to another
    record since the fold's last run (a missing link arrived) leave under their old key.
    Every event of a key is keyed again together, so a key that still has events is
    touched and folded again by the model. -#}
{% macro delete_rekeyed_records() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as folded
        where exists (
            select 1 from {{ ref('int_events_keyed') }} as moved
            where
                moved.keyed_at > {{ folded_through() }}
                and moved.event_id = folded.event_id
                and moved.record_key <> folded.record_key
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The order in which the events of one record became known: the last is its state (the
    fold) and each one's successor ends its interval (the history marts). -#}
{% macro known_order() -%}
    known_at, recorded_at, load_id, chain_depth, event_id
{%- endmacro %}
