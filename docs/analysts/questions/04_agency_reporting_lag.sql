-- Question: Which agencies report latest (longest delay between an event and the hub learning
--   of it), and how complete are their records?
-- Asked by: information management officer, chasing reporting focal points.
-- Audience: mission (partners see only the rows of public and partners agencies).
-- Tables: coordination_agency_timeliness, dim_agencies
-- Notes: Lag = recorded_at - occurred_at. In a demo the whole history is loaded at once, so
--   lags are weeks long; in operation they are hours.

select
    agencies.agency_id,
    agencies.agency_name,
    count(*) as weeks,
    sum(timeliness.report_count) as reports,
    round(max(timeliness.lag_hours_p90), 1) as worst_weekly_lag_hours_p90,
    round(
        sum(timeliness.lag_hours_median * timeliness.report_count)
        / nullif(sum(timeliness.report_count), 0),
        1
    ) as lag_hours_median_weighted,
    round(
        sum(timeliness.complete_record_count) / nullif(sum(timeliness.record_count), 0), 3
    ) as complete_share
from coordination_agency_timeliness as timeliness
inner join dim_agencies as agencies on timeliness.agency_id = agencies.agency_id
group by all
order by worst_weekly_lag_hours_p90 desc nulls last, agencies.agency_id;
