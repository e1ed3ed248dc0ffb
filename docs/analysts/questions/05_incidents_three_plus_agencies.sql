-- Question: Which incidents were reported by three or more agencies?
-- Asked by: Joint Mission Analysis Centre (JMAC) analyst, looking for well-corroborated events.
-- Audience: mission (a unified incident takes the strictest releasability of its reports, so
--   multi-agency incidents are mostly mission).
-- Tables: fct_incidents, dim_locations

select
    incidents.incident_id,
    incidents.occurred_at,
    incidents.incident_type,
    incidents.incident_sub_type,
    incidents.fatalities,
    locations.admin1_name as province,
    locations.admin2_name as district,
    incidents.agency_count,
    array_to_string(incidents.agency_ids, ', ') as agencies,
    incidents.confidence,
    incidents.releasability
from fct_incidents as incidents
inner join dim_locations as locations on incidents.admin2_pcode = locations.admin2_pcode
where incidents.agency_count >= 3
order by incidents.agency_count desc, incidents.occurred_at desc;
