{#-
    Coverage gaps: admin2 areas with incidents after which no aid was delivered in the same
    area within var('coverage_gap_days') days (default 14). One row per area with at least
    one such uncovered incident.
-#}

with

incidents as (
    select * from {{ ref('fct_incidents') }}
    where admin2_pcode is not null
),

deliveries as (
    select * from {{ ref('fct_aid_deliveries') }}
),

next_deliveries as (
    -- each incident with the first delivery in its area on or after its day (an as-of
    -- join: linear in incidents and deliveries, where comparing every pair in an area
    -- grew with the square of the operation's length)
    select
        incidents.*,
        deliveries.delivered_on as next_delivered_on
    from incidents
    asof left join deliveries
        on
            incidents.admin2_pcode = deliveries.admin2_pcode
            and incidents.occurred_on <= deliveries.delivered_on
),

uncovered as (
    select * exclude (next_delivered_on)
    from next_deliveries
    where
        next_delivered_on is null
        or next_delivered_on > occurred_on + to_days({{ var('coverage_gap_days') }})
),

areas as (
    select
        admin2_pcode,
        any_value(admin1_pcode) as admin1_pcode,
        count(*) as uncovered_incident_count,
        min(occurred_at) as first_uncovered_at,
        max(occurred_at) as last_uncovered_at,
        cast(sum(coalesce(fatalities, 0)) as bigint) as uncovered_fatalities,
        list(incident_id order by incident_id) as incident_ids,
        flatten(list(source_event_ids order by incident_id)) as source_event_ids,
        {{ strictest_releasability('releasability') }} as releasability
    from uncovered
    group by admin2_pcode
)

select
    areas.admin2_pcode,
    areas.admin1_pcode,
    {{ var('coverage_gap_days') }} as gap_days,
    (
        select count(*) from incidents
        where incidents.admin2_pcode = areas.admin2_pcode)
        as incident_count,
    areas.uncovered_incident_count,
    areas.uncovered_fatalities,
    areas.first_uncovered_at,
    areas.last_uncovered_at,
    (
        select max(deliveries.delivered_at) from deliveries
        where deliveries.admin2_pcode = areas.admin2_pcode
    ) as last_delivery_at,
    areas.incident_ids,
    areas.source_event_ids,
    len(areas.source_event_ids) as source_count,
    areas.releasability
from areas
