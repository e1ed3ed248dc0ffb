-- Question: What did we know about incidents on a past day, and what changed since: reports
--   added, corrected (a different version now) or retracted, per province?
-- Asked by: analyst reviewing a decision ("what did we know when we decided?").
-- Audience: public (each audience sees the reports of its own level).
-- Tables: fct_incident_history
-- Notes: Set the moment in `asked`; here, ten days after the first report the hub knew of
--   (after the last one, "then" is now and nothing changed). A report is known at T in the
--   version with known_from <= T < known_to (known_to null: still known). Reports, not
--   unified incidents: incident_id names a report's unified incident now.

with asked as (
    select min(known_from) + interval 10 day as moment from fct_incident_history
),

-- A report whose version known then is still the one known now is unchanged: counted as it
-- is, so only the reports that changed since are paired up (a join of every report with
-- itself cost most of this query where little changed).
unchanged as (
    select
        history.admin1_pcode,
        true as known_then,
        true as known_now,
        false as corrected
    from fct_incident_history as history, asked
    where history.known_to is null and history.known_from <= asked.moment
),

then_known as (
    -- known then, replaced or retracted since
    select history.record_key, history.event_id, history.admin1_pcode
    from fct_incident_history as history, asked
    where history.known_from <= asked.moment and history.known_to > asked.moment
),

now_known as (
    -- known now, not then
    select history.record_key, history.event_id, history.admin1_pcode
    from fct_incident_history as history, asked
    where history.known_to is null and history.known_from > asked.moment
),

reports as (
    -- each report known then or now: whether it was known then, is known now, and in
    -- another version now
    select * from unchanged
    union all
    select
        coalesce(now_known.admin1_pcode, then_known.admin1_pcode) as admin1_pcode,
        then_known.record_key is not null as known_then,
        now_known.record_key is not null as known_now,
        then_known.event_id <> now_known.event_id as corrected
    from then_known
    full outer join now_known on then_known.record_key = now_known.record_key
)

select
    admin1_pcode,
    count(*) filter (where known_then) as reports_then,
    count(*) filter (where known_now) as reports_now,
    count(*) filter (where not known_then) as added_since,
    count(*) filter (where corrected) as corrected_since,
    count(*) filter (where not known_now) as gone_since
from reports
group by all
order by admin1_pcode;
