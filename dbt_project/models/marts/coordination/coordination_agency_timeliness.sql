{#-
    Agency reporting timeliness and completeness, per agency and ISO week of recording:
      - reporting lag (recorded_at - occurred_at, hours) of the week's reports and
        corrections: median and 90th percentile;
      - completeness: share of the week's current records (first recorded that week, not
        retracted) that normalised without any issue;
      - corrections and retractions received that week;
      - quarantine rate: records quarantined at ingest / records read, in the week's loads.

    Need to know (docs/need-to-know.md): content_releasability is the strictest level of
    the week's events, restricted when the week's loads quarantined a record (its
    classification is unknown); releasability applies the aggregate rule to it with the
    week's event count. Publishing withholds the event ids from an audience below
    content_releasability.

    Incremental: a run recomputes only the agency-weeks it touches: weeks of events keyed
    since the last build, weeks in which a changed record was first recorded (its first
    event's week, before or after the change: both are weeks of its events), and weeks
    whose load counts differ from the built rows (loads are few, so compared in full).
    Events are never removed, so a week's row never disappears: delete+insert on the id.
-#}
{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='delete+insert',
        unique_key='timeliness_id',
        on_schema_change='fail',
        post_hook="{{ save_watermark() }}",
    )
}}
-- depends_on: {{ ref('int_events_keyed') }}

with

load_stats as (
    select
        agency_id,
        {{ week_start('recorded_at') }} as week_start,
        cast(sum(records_read) as bigint) as records_read,
        cast(sum(records_quarantined) as bigint) as records_quarantined
    from {{ ref('stg_eventlog__loads') }}
    where load_kind = 'load'
    group by agency_id, week_start
),

{% if is_incremental() %}
    touched_weeks as (
        select
            agency_id,
            {{ week_start('recorded_at') }} as week_start
        from {{ ref('int_events_keyed') }}
        where
            keyed_at > {{ watermark() }}
            or record_key in ({{ changed_record_keys() }})
        union
        select
            load_stats.agency_id,
            load_stats.week_start
        from load_stats
        where not exists (
            select 1 from {{ this }} as built
            where
                built.agency_id = load_stats.agency_id
                and built.week_start = load_stats.week_start
                and built.records_read = load_stats.records_read
                and built.records_quarantined = load_stats.records_quarantined
        )
    ),
{% endif %}

events as (
    select
        keyed.agency_id,
        {{ week_start('keyed.recorded_at') }} as week_start,
        keyed.event_id,
        keyed.releasability,
        keyed.is_retraction,
        keyed.supersedes is not null and not keyed.is_retraction as is_correction,
        {{ seconds_between('keyed.recorded_at', 'keyed.occurred_at') }} / 3600.0 as lag_hours
    from {{ ref('int_events_keyed') }} as keyed
    {% if is_incremental() %}
        inner join touched_weeks
            on
                keyed.agency_id = touched_weeks.agency_id
                and {{ week_start('keyed.recorded_at') }} = touched_weeks.week_start
    {% endif %}
),

event_stats as (
    select
        agency_id,
        week_start,
        count(*) as event_count,
        count(*) filter (where not is_retraction and not is_correction) as report_count,
        count(*) filter (where is_correction) as correction_count,
        count(*) filter (where is_retraction) as retraction_count,
        median(lag_hours) filter (where not is_retraction) as lag_hours_median,
        {{ quantile('lag_hours', 0.9) }} filter (where not is_retraction) as lag_hours_p90,
        {{ ordered_list('event_id', ['event_id']) }} as source_event_ids,
        {{ strictest_releasability('releasability') }} as releasability
    from events
    group by agency_id, week_start
),

records as (
    {% for entity in ['incidents', 'deliveries', 'patrols'] %}
        select
            folded.agency_id,
            {{ week_start('folded.first_recorded_at') }} as week_start,
            {{ list_size('folded.issues') }} = 0 as is_complete
        from {{ ref('int_' ~ entity ~ '_folded') }} as folded
        {% if is_incremental() %}
            inner join touched_weeks
                on
                    folded.agency_id = touched_weeks.agency_id
                    and {{ week_start('folded.first_recorded_at') }} = touched_weeks.week_start
        {% endif %}
        where not folded.is_retracted
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

record_stats as (
    select
        agency_id,
        week_start,
        count(*) as record_count,
        count(*) filter (where is_complete) as complete_record_count
    from records
    group by agency_id, week_start
),

weeks as (
    select
        event_stats.agency_id || '|' || {{ date_text('event_stats.week_start') }} as timeliness_id,
        event_stats.agency_id,
        event_stats.week_start,
        event_stats.event_count,
        event_stats.report_count,
        event_stats.correction_count,
        event_stats.retraction_count,
        round(event_stats.lag_hours_median, 2) as lag_hours_median,
        round(event_stats.lag_hours_p90, 2) as lag_hours_p90,
        coalesce(record_stats.record_count, 0) as record_count,
        coalesce(record_stats.complete_record_count, 0) as complete_record_count,
        round(record_stats.complete_record_count / nullif(record_stats.record_count, 0), 4)
            as complete_share,
        coalesce(load_stats.records_read, 0) as records_read,
        coalesce(load_stats.records_quarantined, 0) as records_quarantined,
        round(load_stats.records_quarantined / nullif(load_stats.records_read, 0), 4)
            as quarantine_rate,
        event_stats.source_event_ids,
        {{ list_size('event_stats.source_event_ids') }} as source_count,
        if(coalesce(load_stats.records_quarantined, 0) > 0, 'restricted', event_stats.releasability)
            as content_releasability
    from event_stats
    left join record_stats
        on
            event_stats.agency_id = record_stats.agency_id
            and event_stats.week_start = record_stats.week_start
    left join load_stats
        on
            event_stats.agency_id = load_stats.agency_id
            and event_stats.week_start = load_stats.week_start
)

select
    *,
    {{ aggregate_releasability('content_releasability', 'event_count') }} as releasability
from weeks
