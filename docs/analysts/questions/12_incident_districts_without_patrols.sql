-- Question: In which districts, and how often, did an incident have no patrol in the district
--   within 72 hours before or after it?
-- Asked by: Force headquarters / Joint Operations Centre, planning patrol coverage.
-- Audience: mission (patrols are mission releasability).
-- Tables: fct_incidents, fct_patrols, dim_locations

with unpatrolled as (
    select incidents.*
    from fct_incidents as incidents
    where not exists (
        select 1
        from fct_patrols as patrols
        where patrols.admin2_pcode = incidents.admin2_pcode
            and patrols.started_at <= incidents.occurred_at + interval 72 hour
            and coalesce(patrols.ended_at, patrols.started_at)
            >= incidents.occurred_at - interval 72 hour
    )
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
