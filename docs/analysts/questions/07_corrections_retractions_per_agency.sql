-- Question: How often does each agency correct or retract what it reported?
-- Asked by: information management officer / data quality focal point.
-- Audience: mission (partners see only the rows of public and partners agencies).
-- Tables: dim_agencies, coordination_agency_timeliness
-- Notes: Agencies without a row in coordination_agency_timeliness (or whose rows the audience
--   may not see) show zeros.

with per_agency as (
    select
        agency_id,
        sum(report_count) as reports,
        sum(correction_count) as corrections,
        sum(retraction_count) as retractions
    from coordination_agency_timeliness
    group by agency_id
)

select
    agencies.agency_id,
    agencies.agency_name,
    agencies.agency_kind,
    coalesce(per_agency.reports, 0) as reports,
    coalesce(per_agency.corrections, 0) as corrections,
    coalesce(per_agency.retractions, 0) as retractions,
    round(
        (coalesce(per_agency.corrections, 0) + coalesce(per_agency.retractions, 0))
        / nullif(per_agency.reports, 0),
        3
    ) as amended_share
from dim_agencies as agencies
left join per_agency on agencies.agency_id = per_agency.agency_id
order by amended_share desc nulls last, agencies.agency_id;
