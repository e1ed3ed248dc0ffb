-- Question: Which agency reports (and which events of the event log) are behind one unified
--   incident, and did any of them have normalisation problems?
-- Asked by: JMAC analyst or an agency liaison officer checking a disputed incident.
-- Audience: mission (source record keys of every agency, including mission-only reports).
-- Tables: fct_incidents, dim_agencies, normalisation_issues
-- Notes: Here the incident with the most sources; put an incident_id in `chosen` instead. The
--   events themselves are in the event log, not in the published dataset:
--   peaceops events "SELECT * FROM events WHERE event_id IN ('<id>', ...)"

with chosen as (
    select incident_id
    from fct_incidents
    order by source_count desc, incident_id
    limit 1
),

sources as (
    select
        incidents.incident_id,
        incidents.occurred_at,
        incidents.incident_type,
        incidents.releasability,
        unnest(incidents.source_record_keys) as record_key,
        len(incidents.source_event_ids) as incident_event_count,
        array_to_string(incidents.source_event_ids, ', ') as incident_event_ids
    from fct_incidents as incidents
    inner join chosen on incidents.incident_id = chosen.incident_id
)

select
    sources.incident_id,
    sources.occurred_at,
    sources.incident_type,
    sources.releasability,
    sources.record_key,
    split_part(sources.record_key, ':', 1) as feed_id,
    agencies.agency_name,
    (
        select count(*)
        from normalisation_issues as issues
        where issues.record_key = sources.record_key
    ) as normalisation_issues,
    sources.incident_event_count,
    sources.incident_event_ids
from sources
left join dim_agencies as agencies
    on list_contains(agencies.feed_ids, split_part(sources.record_key, ':', 1))
order by sources.record_key;
