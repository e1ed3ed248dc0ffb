-- Question: Which incidents with fatalities rest on a single agency's report and need
--   verification before they go into the mission's reporting?
-- Asked by: JMAC / Joint Operations Centre duty officer.
-- Audience: mission (with reporting_reliability, which is mission-only in dim_agencies).
-- Tables: fct_incidents, dim_agencies, dim_locations

select
    incidents.incident_id,
    incidents.occurred_at,
    incidents.incident_type,
    incidents.fatalities,
    locations.admin2_name as district,
    incidents.agency_ids[1] as agency_id,
    agencies.agency_name,
    agencies.reporting_reliability,
    incidents.confidence,
    incidents.releasability
from fct_incidents as incidents
inner join dim_locations as locations on incidents.admin2_pcode = locations.admin2_pcode
left join dim_agencies as agencies on incidents.agency_ids[1] = agencies.agency_id
where incidents.agency_count = 1
    and incidents.fatalities > 0
order by incidents.fatalities desc, incidents.confidence, incidents.occurred_at desc;
