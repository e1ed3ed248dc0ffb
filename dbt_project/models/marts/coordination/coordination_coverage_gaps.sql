{#-
    Coverage gaps: admin areas with incidents after which no aid was delivered in the same
    area within var('coverage_gap_days') days (default 14), and no organisation was present
    there (3W operational presence) at the time. One row per area with at least one such
    uncovered incident.

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
        deliveries.delivered_at
    from deliveries,
        unnest([deliveries.admin2_pcode, deliveries.admin1_pcode, deliveries.admin0_pcode])
            as area (area_pcode)
    where area.area_pcode is not null
),

presence_areas as (
    select
        area.area_pcode,
        presence.reference_period_start,
        presence.reference_period_end
    from {{ ref('fct_operational_presence') }} as presence,
        unnest([presence.admin2_code, presence.admin1_code, presence.admin0_pcode])
            as area (area_pcode)
    where area.area_pcode is not null
),

next_deliveries as (
    -- each incident with the first delivery in its area on or after its day (an as-of
    -- join: linear in incidents and deliveries, where comparing every pair in an area
    -- grew with the square of the operation's length)
    select
        incidents.*,
        delivery_areas.delivered_on as next_delivered_on
    from incidents
    asof left join delivery_areas
        on
            incidents.area_pcode = delivery_areas.area_pcode
            and incidents.occurred_on <= delivery_areas.delivered_on
),

uncovered as (
    select * exclude (next_delivered_on)
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
        list(incident_id order by incident_id) as incident_ids,
        flatten(list(source_event_ids order by incident_id)) as source_event_ids,
        {{ strictest_releasability('releasability') }} as releasability
    from uncovered
    group by area_pcode
)

select
    areas.area_pcode,
    areas.admin_level,
    areas.admin2_pcode,
    areas.admin1_pcode,
    areas.admin0_pcode,
    {{ var('coverage_gap_days') }} as gap_days,
    (
        select count(*) from incidents
        where incidents.area_pcode = areas.area_pcode)
        as incident_count,
    areas.uncovered_incident_count,
    areas.uncovered_fatalities,
    areas.first_uncovered_at,
    areas.last_uncovered_at,
    (
        select max(delivery_areas.delivered_at) from delivery_areas
        where delivery_areas.area_pcode = areas.area_pcode
    ) as last_delivery_at,
    areas.incident_ids,
    areas.source_event_ids,
    len(areas.source_event_ids) as source_count,
    areas.releasability
from areas
