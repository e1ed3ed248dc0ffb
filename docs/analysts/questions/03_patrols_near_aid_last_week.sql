-- Question: Which patrols were within 5 km and 6 hours of an aid delivery or convoy last week?
-- Asked by: civil-military coordination (CMCoord) officer, for the weekly deconfliction review.
-- Audience: mission (patrol units are mission-only; most patrol rows are mission releasability).
-- Tables: coordination_deconfliction, fct_patrols, fct_aid_deliveries, dim_locations
-- Notes: 5 km from the patrol's reported point (where it started: a patrol's route is not
--   known) to the delivery's point; 6 hours between the delivery and the patrol's start-end span.
--   "Last week" is the 7 days up to the latest delivery in the data, so the query works on
--   any published version; live, use `now() - interval 7 day` instead.

select
    deconfliction.delivered_at,
    locations.admin2_name as district,
    deconfliction.organisation_name,
    deliveries.cluster_name,
    deconfliction.patrol_agency_id,
    patrols.patrol_unit,
    patrols.patrol_type,
    deconfliction.patrol_started_at,
    deconfliction.patrol_ended_at,
    round(deconfliction.distance_km, 1) as distance_km,
    round(deconfliction.hours_apart, 1) as hours_apart
from coordination_deconfliction as deconfliction
inner join fct_patrols as patrols on deconfliction.patrol_id = patrols.patrol_id
inner join fct_aid_deliveries as deliveries on deconfliction.delivery_id = deliveries.delivery_id
left join dim_locations as locations on deconfliction.admin2_pcode = locations.admin2_pcode
where deconfliction.delivered_at
    >= (select max(delivered_at) from fct_aid_deliveries) - interval 7 day
order by deconfliction.delivered_at desc, distance_km;
