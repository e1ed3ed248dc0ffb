{#-
    Coverage gaps: admin areas with incidents after which no aid was delivered in the same
    area within var('coverage_gap_days') days (default 14), and no organisation was present
    there (3W operational presence) at the time. One row per area with at least one such
    uncovered incident.

    Need to know (docs/need-to-know.md): content_releasability is the strictest level of
    the uncovered incidents and the last delivery; releasability applies the aggregate rule
    to each count, uncovered incidents (at content_releasability) and all incidents of the
    area (at their strictest level), and takes the stricter. Publishing withholds the record
    content (times, fatalities, ids) from an audience below content_releasability.

    Areas at every admin level: an incident known only at admin1 (or only its country) is
    counted in that area. A delivery or a presence covers its own area and the areas above
    it (aid in a district reached its province), never the areas below it (aid known only
    at province level may not have reached the district of an incident).
-#}

with

incidents as (
    select
        *,
        coalesce(admin2_pcode, admin1_pcode, admin0_pcode) as area_pcode
    from {{ ref('fct_incidents') }}
    where admin_level is not null
),

deliveries as (
    select * from {{ ref('fct_aid_deliveries') }}
),

delivery_areas as (
    -- each delivery (presence) once per area it covers: its own and the ones above it
    select
        area.area_pcode,
        deliveries.delivered_on,
        deliveries.delivered_at,
        deliveries.releasability
    from deliveries,
        {{ list_rows(list_literal(['deliveries.admin2_pcode', 'deliveries.admin1_pcode', 'deliveries.admin0_pcode'])) }}
            as area (area_pcode)
    where area.area_pcode is not null
),

presence_areas as (
    select
        area.area_pcode,
        presence.reference_period_start,
        presence.reference_period_end
    from {{ ref('fct_operational_presence') }} as presence,
        {{ list_rows(list_literal(['presence.admin2_code', 'presence.admin1_code', 'presence.admin0_pcode'])) }}
            as area (area_pcode)
    where area.area_pcode is not null
),

next_deliveries as (
    -- each incident with the first delivery in its area on or after its day (an as-of
    -- join: linear in incidents and deliveries, where comparing every pair in an area
    -- grew with the square of the operation's length)
    {%- set on_or_after %}
            incidents.area_pcode = delivery_areas.area_pcode
            and incidents.occurred_on <= delivery_areas.delivered_on
    {%- endset %}
    {{ first_match('incidents', 'delivery_areas', on_or_after, 'delivery_areas.delivered_on', 'next_delivered_on') }}
),

uncovered as (
    select * {{ all_but() }} (next_delivered_on)
    from next_deliveries
    where
        (
            next_delivered_on is null
            or next_delivered_on > occurred_on + to_days({{ var('coverage_gap_days') }})
        )
        and not exists (
            select 1 from presence_areas
            where
                presence_areas.area_pcode = next_deliveries.area_pcode
                and presence_areas.reference_period_start
                <= next_deliveries.occurred_on + to_days({{ var('coverage_gap_days') }})
                and presence_areas.reference_period_end >= next_deliveries.occurred_on
        )
),

areas as (
    select
        area_pcode,
        any_value(admin_level) as admin_level,
        any_value(admin2_pcode) as admin2_pcode,
        any_value(admin1_pcode) as admin1_pcode,
        any_value(admin0_pcode) as admin0_pcode,
        count(*) as uncovered_incident_count,
        min(occurred_at) as first_uncovered_at,
        max(occurred_at) as last_uncovered_at,
        cast(sum(coalesce(fatalities, 0)) as bigint) as uncovered_fatalities,
        {{ ordered_list('incident_id', ['incident_id']) }} as incident_ids,
        flatten({{ ordered_list('source_event_ids', ['incident_id']) }}) as source_event_ids,
        max({{ releasability_rank('releasability') }}) as releasability_rank
    from uncovered
    group by area_pcode
),

area_incidents as (
    -- incident_count counts every incident of the area: a figure of its own
    select
        area_pcode,
        count(*) as incident_count,
        max({{ releasability_rank('releasability') }}) as releasability_rank
    from incidents
    group by area_pcode
),

last_deliveries as (
    select
        area_pcode,
        max(delivered_at) as last_delivery_at,
        -- of deliveries at the same last moment, the strictest
        max_by(
            {{ releasability_rank('releasability') }},
            (delivered_at, {{ releasability_rank('releasability') }})
        ) as releasability_rank
    from delivery_areas
    group by area_pcode
),

sourced as (
    select
        areas.* {{ all_but() }} (areas.releasability_rank),
        area_incidents.incident_count,
        last_deliveries.last_delivery_at,
        {{ releasability_levels() }}[
            greatest(areas.releasability_rank, coalesce(last_deliveries.releasability_rank, 1))
        ] as content_releasability,
        {{ releasability_levels() }}[area_incidents.releasability_rank] as area_releasability
    from areas
    inner join area_incidents on areas.area_pcode = area_incidents.area_pcode
    left join last_deliveries on areas.area_pcode = last_deliveries.area_pcode
)

select
    area_pcode,
    admin_level,
    admin2_pcode,
    admin1_pcode,
    admin0_pcode,
    {{ var('coverage_gap_days') }} as gap_days,
    incident_count,
    uncovered_incident_count,
    uncovered_fatalities,
    first_uncovered_at,
    last_uncovered_at,
    last_delivery_at,
    incident_ids,
    source_event_ids,
    {{ list_size('source_event_ids') }} as source_count,
    content_releasability,
    {{ releasability_levels() }}[
        greatest(
            {{ releasability_rank(aggregate_releasability('content_releasability', 'uncovered_incident_count')) }},
            {{ releasability_rank(aggregate_releasability('area_releasability', 'incident_count')) }}
        )
    ] as releasability
from sourced
