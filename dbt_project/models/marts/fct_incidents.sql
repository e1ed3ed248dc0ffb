{{
    config(
        materialized=incremental_or_table(),
        unique_key='incident_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_incidents() }}",
        post_hook="{{ save_watermark() }}",
    )
}}

-- depends_on: {{ ref('int_events_keyed') }}
-- One row per unified incident: the reports of all agencies about one real incident
-- (int_incidents_resolved), with lineage to every event and the strictest releasability.

with

{% if is_incremental() %}
    changed_incidents as (
        -- the incidents, as resolved now, of reports re-resolved or changed since the last
        -- build (the incidents they belonged to before: see the pre-hook)
        select distinct resolved.incident_id
        from {{ ref('int_incidents_resolved') }} as resolved
        where
            resolved.resolved_at > {{ watermark() }}
            or resolved.record_key in ({{ changed_record_keys() }})
    ),
{% endif %}

sources as (
    select
        resolved.incident_id,
        folded.*,
        agencies.reporting_reliability,
        {{ releasability_rank('folded.releasability') }} as releasability_rank,
        list_position({{ list_literal(["'coordinates'", "'mgrs'", "'place_name'", "'admin_area'"]) }}, folded.location_method)
            as location_rank,
        list_position({{ list_literal(["'minute'", "'day'", "'month'"]) }}, folded.time_precision) as time_rank
    from {{ ref('int_incidents_resolved') }} as resolved
    inner join {{ ref('int_incidents_folded') }} as folded
        on resolved.record_key = folded.record_key
    inner join {{ source('registry', 'agencies') }} as agencies
        on folded.agency_id = agencies.agency_id
    {% if is_incremental() %}
        where resolved.incident_id in (select changed_incidents.incident_id from changed_incidents)
    {% endif %}
),

reports as (
    select
        *,
        min(time_rank) over incident as best_time_rank,
        min(location_rank) over incident as best_location_rank
    from sources
    window incident as (partition by incident_id)
),

unified as (
    select
        incident_id,
        -- the most precise time; among equals the earliest
        min(occurred_at) filter (where time_rank = best_time_rank) as occurred_at,
        min(time_rank) as time_rank,
        -- the type and sub-type of the most reliable source (ties broken by record key)
        -- (one aggregate picks the source, and its columns come with it: one per column
        -- took 6 s more at 10M events)
        max_by(
            {{ struct_of([('incident_type', 'incident_type'), ('incident_sub_type', 'incident_sub_type')]) }},
            {{ tuple_of(["reporting_reliability", "record_key"]) }}
        ) as typed_by,
        -- fatalities: the most conservative (lowest) count reported
        min(fatalities) as fatalities,
        -- the place of the most precise location; points averaged among equals
        min(location_rank) as location_rank,
        -- (averaged in a fixed order: a float sum depends on its order)
        {{ list_mean(ordered_list('latitude', ['latitude'], filter='location_rank = best_location_rank')) }}
            as latitude,
        {{ list_mean(ordered_list('longitude', ['longitude'], filter='location_rank = best_location_rank')) }}
            as longitude,
        -- the area of the most precise location, the finest among equals (then the first
        -- record key)
        min_by(
            {{ struct_of([('admin2_pcode', 'admin2_pcode'), ('admin1_pcode', 'admin1_pcode'),
                ('admin0_pcode', 'admin0_pcode'), ('admin_level', 'admin_level')]) }},
            {{ tuple_of(["location_rank", "-admin_level", "record_key"]) }}
        ) as located_by,
        count(*) as source_count,
        count(distinct agency_id) as agency_count,
        {{ ordered_list('agency_id', ['agency_id'], distinct=true) }} as agency_ids,
        {{ ordered_list('record_key', ['record_key']) }} as source_record_keys,
        flatten({{ keyed_list('event_ids', 'record_key') }}) as source_event_ids,
        -- independent sources: 1 - product of each source's chance of being wrong
        1 - {{ product_of('1 - reporting_reliability') }} as confidence,
        {{ releasability_levels() }}[max(releasability_rank)] as releasability,
        min(first_recorded_at) as first_recorded_at,
        max(recorded_at) as last_recorded_at
    from reports
    group by incident_id
)

select
    unified.incident_id,
    unified.occurred_at,
    {{ utc_date('unified.occurred_at') }} as occurred_on,
    {{ pick(["'minute'", "'day'", "'month'"], 'unified.time_rank') }} as time_precision,
    unified.typed_by.incident_type,
    unified.typed_by.incident_sub_type,
    unified.fatalities,
    unified.latitude,
    unified.longitude,
    {{ pick(["'coordinates'", "'mgrs'", "'place_name'", "'admin_area'"], 'unified.location_rank') }} as location_method,
    unified.located_by.admin_level,
    unified.located_by.admin0_pcode,
    unified.located_by.admin1_pcode,
    unified.located_by.admin2_pcode,
    unified.source_count,
    unified.agency_count,
    unified.agency_ids,
    unified.source_record_keys,
    unified.source_event_ids,
    round(unified.confidence, 3) as confidence,
    unified.releasability,
    unified.first_recorded_at,
    unified.last_recorded_at
from unified
