-- Question: Over the whole period the data covers, which districts had incidents after which no
--   aid was delivered in the district within 14 days (from the incident's day to 14 days later)?
-- Asked by: OCHA / humanitarian coordinator, planning the next round of assessments and convoys.
-- Audience: partners (incidents and deliveries down to partners releasability; mission sees more).
-- Tables: fct_incidents, fct_aid_deliveries, dim_locations
-- Notes: Per incident, not "no aid in the last 14 days": a district counts when any of its
--   incidents, at any time, went 14 days without aid. For "districts with incidents and no aid in
--   the last 14 days", add `where occurred_on > current_date - 14` to `incident_days` and
--   compare last_delivery_on with current_date. The same rule (var coverage_gap_days = 14, plus
--   3W presence) is precomputed in coordination_coverage_gaps. Incidents of the last 14 days of
--   data cannot have been "covered" yet: read them (last_incident_on) as open.

with incident_days as (
    -- incidents of one district on one day share their answer: counted once
    select
        admin2_pcode,
        occurred_on,
        count(*) as incidents,
        sum(coalesce(fatalities, 0)) as fatalities
    from fct_incidents
    group by admin2_pcode, occurred_on
),

delivery_days as (
    select distinct admin2_pcode, delivered_on
    from fct_aid_deliveries
),

uncovered as (
    -- the district's first day of aid on or after the incident's day (an ASOF join: the
    -- nearest match, not every pair), too late or never
    select incident_days.*
    from incident_days
    asof left join delivery_days as next_aid
        on
            incident_days.admin2_pcode = next_aid.admin2_pcode
            and next_aid.delivered_on >= incident_days.occurred_on
    where next_aid.delivered_on is null or next_aid.delivered_on > incident_days.occurred_on + 14
)

select
    locations.admin1_name as province,
    locations.admin2_name as district,
    uncovered.admin2_pcode,
    sum(uncovered.incidents) as incidents_without_aid,
    sum(uncovered.fatalities) as fatalities,
    min(uncovered.occurred_on) as first_incident_on,
    max(uncovered.occurred_on) as last_incident_on,
    (
        select max(delivery_days.delivered_on)
        from delivery_days
        where delivery_days.admin2_pcode = uncovered.admin2_pcode
    ) as last_delivery_on
from uncovered
inner join dim_locations as locations on uncovered.admin2_pcode = locations.admin2_pcode
group by all
order by incidents_without_aid desc, district;
