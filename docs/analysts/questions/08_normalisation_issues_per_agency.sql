-- Question: Which agencies send records the hub cannot normalise, and why?
-- Asked by: data engineer / information management officer, to give feedback to each agency.
-- Audience: partners (the offending `value` column is mission-only and not used here).
-- Tables: normalisation_issues, dim_agencies
-- Notes: The published rows are stage = normalise: events whose field could not be normalised.
--   is_excluded: the record is not in the facts at all. Records quarantined at ingest (stage =
--   ingest) are restricted (nobody read their marking) and so in no published folder: their
--   counts per agency, reason and week are question 14 (coordination_quarantine_counts).

select
    issues.agency_id,
    agencies.agency_name,
    issues.stage,
    issues.reason,
    count(*) as issues,
    count(*) filter (where issues.is_excluded) as records_excluded,
    count(distinct issues.record_key) as records
from normalisation_issues as issues
left join dim_agencies as agencies on issues.agency_id = agencies.agency_id
group by all
order by issues desc, issues.agency_id, issues.stage, issues.reason;
