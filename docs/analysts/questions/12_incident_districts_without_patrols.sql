-- Question: In which districts, and how often, did an incident have no patrol in the district
--   within 72 hours before or after it?
-- Asked by: Force headquarters / Joint Operations Centre, planning patrol coverage.
-- Audience: mission (patrols are mission releasability).
-- Tables: fct_incidents, fct_patrols, dim_locations

-- A patrol covers an incident when it started by 72 hours after it and ended no earlier
-- than 72 hours before it. So per district, ordered by start, the latest end reached so
-- far answers it: one sorted pass and an as-of join instead of comparing every pair.
with patrol_reach as (
    select
        admin2_pcode,
        started_at,
        max(coalesce(ended_at, started_at)) over (
            partition by admin2_pcode order by started_at
        ) as reached_until
    from fct_patrols
    where started_at is not null
),

unpatrolled as (
    select incidents.*
    from fct_incidents as incidents
    asof left join patrol_reach as reach
        on
            incidents.admin2_pcode = reach.admin2_pcode
            and incidents.occurred_at + interval 72 hour >= reach.started_at
    where
        reach.reached_until is null
        or reach.reached_until < incidents.occurred_at - interval 72 hour
)

select
    locations.admin1_name as province,
    locations.admin2_name as district,
    count(*) as incidents_without_patrol,
    sum(coalesce(unpatrolled.fatalities, 0)) as fatalities,
    min(unpatrolled.occurred_at) as first_incident_at,
    max(unpatrolled.occurred_at) as last_incident_at,
    list(distinct unpatrolled.incident_type order by unpatrolled.incident_type) as incident_types
from unpatrolled
inner join dim_locations as locations on unpatrolled.admin2_pcode = locations.admin2_pcode
group by all
order by incidents_without_patrol desc, district;
