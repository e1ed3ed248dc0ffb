-- Question: How many incidents and fatalities per province and month, by incident type?
-- Asked by: mission leadership / DPPA desk officer, for the monthly situation report.
-- Audience: public (public rows only give a partial count; partners and mission see more).
-- Tables: fct_incidents, dim_locations, dim_dates
-- Notes: fatalities of a unified incident are the lowest count any agency reported.

select
    dates.month_start,
    locations.admin1_pcode,
    locations.admin1_name as province,
    incidents.incident_type,
    count(*) as incidents,
    sum(coalesce(incidents.fatalities, 0)) as fatalities
from fct_incidents as incidents
inner join dim_locations as locations on incidents.admin2_pcode = locations.admin2_pcode
inner join dim_dates as dates on incidents.occurred_on = dates.date_day
group by all
order by dates.month_start, fatalities desc, province, incidents.incident_type;
