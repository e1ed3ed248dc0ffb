-- One row per version of every incident report, with the interval in which it was the
-- version the hub knew: from its event's known_at to the known_at of the report's next
-- event (known_to; null while it is still the known one). "As known at T" is
-- known_from <= T and (known_to is null or known_to > T), on the published data.
-- Only versions usable as facts are rows (not retractions, not excluded reports); the
-- version a retraction ended says so in ended_by. Incremental: a run rewrites the reports
-- changed or re-resolved since the last (macro changed_keys).
{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed({'record_key': 'incident'}) }}",
        post_hook="{{ save_watermark() }}",
    )
}}

with

events as (
    select
        staged.*,
        keyed.record_key,
        keyed.chain_depth
    from {{ ref('stg_eventlog__incidents') }} as staged
    inner join {{ ref('int_events_keyed') }} as keyed on staged.event_id = keyed.event_id
    {% if is_incremental() %}
        where {{ is_changed('keyed.record_key', 'incident') }}
    {% endif %}
),

versions as (
    select
        *,
        -- bigint on both engines (Spark's row_number is an int)
        cast(row_number() over known as bigint) as version,
        lead(known_at) over known as known_to,
        lead(case when is_retraction then 'retracted' when is_excluded then 'excluded' else 'corrected' end)
            over known as ended_by,
        -- a report's content is shared at its strictest marking ever, as in the fold
        max({{ releasability_rank('releasability') }}) over (partition by record_key) as record_rank
    from events
    window known as (partition by record_key order by {{ known_order() }})
),

incidents as (
    -- the unified incident each report belongs to now; a report is never shared more widely
    -- than its incident (shared where its incident is not, it would tell that a stricter
    -- source reported the incident too)
    select
        resolved.record_key,
        incidents.incident_id,
        {{ releasability_rank('incidents.releasability') }} as incident_rank
    from {{ ref('int_incidents_resolved') }} as resolved
    inner join {{ ref('fct_incidents') }} as incidents on resolved.incident_id = incidents.incident_id
    {% if is_incremental() %}
        where {{ is_changed('resolved.record_key', 'incident') }}
    {% endif %}
)

select
    versions.event_id,
    versions.record_key,
    incidents.incident_id,
    versions.feed_id,
    versions.agency_id,
    versions.record_id,
    versions.version,
    versions.event_type,
    versions.known_at as known_from,
    versions.known_to,
    versions.ended_by,
    versions.occurred_at,
    versions.time_precision,
    versions.incident_type,
    versions.incident_sub_type,
    versions.fatalities,
    versions.latitude,
    versions.longitude,
    versions.location_method,
    versions.admin_level,
    versions.admin0_pcode,
    versions.admin1_pcode,
    versions.admin2_pcode,
    -- a report in no incident now (retracted, excluded) keeps its own strictest marking
    {{ releasability_levels() }}[greatest(versions.record_rank, coalesce(incidents.incident_rank, 1))]
        as releasability,
    versions.recorded_at,
    versions.load_id
from versions
left join incidents on versions.record_key = incidents.record_key
where
    not versions.is_retraction
    and not versions.is_excluded
    -- superseded in the same instant (one load): never the known version
    and (versions.known_to is null or versions.known_to > versions.known_at)
