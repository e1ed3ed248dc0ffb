-- Question: Per district, how many deliveries did each cluster make, against how many incidents
--   happened there?
-- Asked by: inter-cluster coordination group, checking that response follows need.
-- Audience: partners (deliveries and incidents down to partners releasability).
-- Tables: fct_aid_deliveries, fct_incidents, dim_locations

with deliveries as (
    select
        admin2_pcode,
        cluster_name,
        count(*) as deliveries,
        sum(beneficiaries) as beneficiaries
    from fct_aid_deliveries
    group by all
),

incidents as (
    select
        admin2_pcode,
        count(*) as incidents,
        sum(coalesce(fatalities, 0)) as fatalities
    from fct_incidents
    group by all
)

select
    locations.admin1_name as province,
    locations.admin2_name as district,
    deliveries.cluster_name,
    deliveries.deliveries,
    deliveries.beneficiaries,
    coalesce(incidents.incidents, 0) as incidents,
    coalesce(incidents.fatalities, 0) as fatalities,
    round(deliveries.deliveries / nullif(incidents.incidents, 0), 2) as deliveries_per_incident
from deliveries
inner join dim_locations as locations on deliveries.admin2_pcode = locations.admin2_pcode
left join incidents on deliveries.admin2_pcode = incidents.admin2_pcode
order by incidents desc, district, deliveries.cluster_name;
