-- Question: Which organisations deliver WASH in the same district in the same week (possible
--   duplication of effort)?
-- Asked by: WASH cluster coordinator, before the weekly cluster meeting.
-- Audience: public (coordination_duplication rows are public when all their deliveries are).
-- Tables: coordination_duplication, dim_locations
-- Notes: Change cluster_code for another IASC cluster (FSC, HEA, NUT, SHL, PRO, EDU, LOG, ...;
--   the codes are in fct_aid_deliveries.cluster_code / cluster_name).

select
    duplication.week_start,
    locations.admin1_name as province,
    locations.admin2_name as district,
    duplication.cluster_name,
    duplication.organisation_count,
    array_to_string(duplication.organisations, ', ') as organisations,
    duplication.delivery_count,
    duplication.beneficiaries
from coordination_duplication as duplication
inner join dim_locations as locations on duplication.admin2_pcode = locations.admin2_pcode
where duplication.cluster_code = 'WSH'
order by duplication.week_start desc, duplication.organisation_count desc, district;
