{{
    config(
        materialized=incremental_or_table(),
        unique_key='delivery_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ delete_changed({'delivery_id': 'delivery'}) }}",
        post_hook="{{ save_watermark() }}",
    )
}}

-- depends_on: {{ ref('int_events_keyed') }}
-- One row per real aid delivery: the reports of every feed about one distribution
-- (int_deliveries_resolved), folded (corrections applied, cancellations removed), normalised
-- to IASC clusters and standard units, with every report's figures in the lineage.

with

sources as (
    select
        resolved.delivery_id,
        folded.*,
        {{ releasability_rank('folded.releasability') }} as releasability_rank,
        list_position({{ list_literal(["'coordinates'", "'mgrs'", "'place_name'", "'admin_area'"]) }}, folded.location_method)
            as location_rank,
        -- the figures of the organisation's own report come first, then the most reliable
        -- agency's (ties broken by record key)
        (
            {{ name_key('folded.organisation_name') }}
            in ({{ name_key('agencies.agency_acronym') }}, {{ name_key('agencies.agency_name') }})
        ) as is_own_report,
        agencies.reporting_reliability
    from {{ ref('int_deliveries_resolved') }} as resolved
    inner join {{ ref('int_deliveries_folded') }} as folded
        on resolved.record_key = folded.record_key
    inner join {{ source('registry', 'agencies') }} as agencies
        on folded.agency_id = agencies.agency_id
    {% if is_incremental() %}
        -- the deliveries of reports re-resolved or changed since the last build (their old
        -- rows: see the pre-hook)
        where resolved.delivery_id in (
            select changed.delivery_id from {{ ref('int_deliveries_resolved') }} as changed
            where changed.resolved_at > {{ watermark() }}
        )
    {% endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by delivery_id
            order by is_own_report desc, reporting_reliability desc, record_key asc
        ) as figure_rank,
        row_number() over (
            partition by delivery_id
            order by location_rank asc, admin_level desc, is_own_report desc, record_key asc
        ) as place_rank
    from sources
),

unified as (
    select
        delivery_id,
        count(*) as source_count,
        count(distinct agency_id) as agency_count,
        {{ ordered_list('agency_id', ['agency_id'], distinct=true) }} as agency_ids,
        {{ ordered_list('record_key', ['record_key']) }} as source_record_keys,
        {{ keyed_list('beneficiaries', 'record_key') }} as source_beneficiaries,
        flatten({{ keyed_list('event_ids', 'record_key') }}) as source_event_ids,
        cast(sum(correction_count) as bigint) as correction_count,
        {{ releasability_levels() }}[max(releasability_rank)] as releasability,
        min(first_recorded_at) as first_recorded_at,
        max(recorded_at) as last_recorded_at
    from ranked
    group by delivery_id
)

select
    unified.delivery_id,
    figures.feed_id,
    figures.agency_id,
    figures.record_id,
    figures.organisation_name,
    figures.cluster_code,
    figures.cluster_name,
    figures.source_sector,
    figures.quantity,
    figures.unit,
    figures.beneficiaries,
    figures.occurred_at as delivered_at,
    {{ utc_date('figures.occurred_at') }} as delivered_on,
    figures.time_precision,
    place.latitude,
    place.longitude,
    place.location_method,
    place.admin_level,
    place.admin0_pcode,
    place.admin1_pcode,
    place.admin2_pcode,
    unified.source_count,
    unified.agency_count,
    unified.agency_ids,
    unified.source_record_keys,
    unified.source_beneficiaries,
    unified.source_event_ids,
    unified.correction_count,
    unified.releasability,
    unified.first_recorded_at,
    unified.last_recorded_at
from unified
inner join ranked as figures
    on unified.delivery_id = figures.delivery_id and figures.figure_rank = 1
inner join ranked as place
    on unified.delivery_id = place.delivery_id and place.place_rank = 1
