{#-
    Records the hub could not use, counted per agency, feed, stage, reason and ISO week in
    which it learnt the problem: 'ingest' records quarantined before they became events,
    'normalise' records with a field that could not be normalised (excluded_record_count:
    of them, the records left out of the facts). Answers "how many records were
    quarantined per agency and reason" without showing any record.

    Only counts and codes: content_releasability is the strictest level of the records
    counted (a quarantined record's classification is unknown: restricted) and
    releasability applies the aggregate rule (docs/need-to-know.md) to the record count.
-#}

with

issues as (
    select
        agency_id,
        feed_id,
        stage,
        reason,
        is_excluded,
        releasability,
        {{ week_start('flagged_at') }} as week_start,
        -- a quarantined record has no key: each of its rows is one record read
        coalesce(record_key, issue_id) as record
    from {{ ref('normalisation_issues') }}
),

counts as (
    select
        agency_id,
        feed_id,
        stage,
        reason,
        week_start,
        count(distinct record) as record_count,
        count(distinct record) filter (where is_excluded) as excluded_record_count,
        {{ strictest_releasability('releasability') }} as content_releasability
    from issues
    group by agency_id, feed_id, stage, reason, week_start
)

select
    concat_ws('|', feed_id, stage, reason, {{ date_text('week_start') }}) as quarantine_count_id,
    week_start,
    agency_id,
    feed_id,
    stage,
    reason,
    record_count,
    excluded_record_count,
    content_releasability,
    {{ aggregate_releasability('content_releasability', 'record_count') }} as releasability
from counts
