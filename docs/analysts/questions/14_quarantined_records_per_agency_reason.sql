-- Question: How many records were quarantined or left out of the facts, per agency, reason and week?
-- Asked by: information management officer, to follow up with each agency week by week.
-- Audience: partners (counts only: the records themselves are in normalisation_issues, mission).
-- Tables: coordination_quarantine_counts, dim_agencies
-- Notes: released under the aggregate rule (docs/need-to-know.md): a cell counting fewer
--   than 5 records of a stricter level is not in lower audiences' folders, so a total over
--   them is a lower bound. Records quarantined at ingest (stage = ingest) are restricted, so
--   an ingest cell is published (to partners and mission) only when it counts at least 5
--   records in its week; a feed that quarantines a record or two a week shows only its
--   stage = normalise rows here.

select
    counts.agency_id,
    agencies.agency_name,
    counts.stage,
    counts.reason,
    counts.week_start,
    sum(counts.record_count) as records,
    sum(counts.excluded_record_count) as records_excluded
from coordination_quarantine_counts as counts
left join dim_agencies as agencies on counts.agency_id = agencies.agency_id
group by all
order by counts.week_start, records desc, counts.agency_id, counts.stage, counts.reason;
