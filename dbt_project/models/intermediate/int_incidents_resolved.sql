{#-
    Cross-agency resolution: reports of the same real incident by different agencies
    become one unified incident.

    Two current incident reports (folded, not retracted, not excluded) are candidates when
      1. they come from different agencies,
      2. they have the same ACLED event type and sub-event type,
      3. their times are at most var('resolution_window_hours') (default 6 h) apart (a
         day-precision report is its whole day; reports known only to the month or year
         are never resolved: too vague to tell incidents apart),
      4. their places are within var('resolution_distance_km') (default 10 km) by haversine
         distance when both have a point, else they lie in the same admin2 area,
      5. their cost is at most var('resolution_max_cost') (default 20), where
         cost = (hours apart / var('resolution_time_scale_hours'))^2
              + (km apart / var('resolution_distance_scale_km'))^2
              + var('resolution_fatality_weight') * |difference of fatalities| (1 if unknown).
    Candidates are gathered into clusters by macro report_clusters (reciprocal cheapest partners,
    complete link, var('resolution_rounds') rounds); each cluster is one unified incident
    (`incident_id` = hash of its smallest record key), one row per source report here.
    docs/resolution.md gives the measurements behind the defaults.

    Incremental, exactly: candidates are at most `hop` = window + 24 h apart, and after R
    rounds a report's incident depends only on the reports within 4R - 2 hops of it
    (docs/resolution.md, "Incremental runs"). An incremental run re-resolves the reports
    within that reach of the days of changed reports (their days before and after the
    change), from the reports within twice the reach, and leaves every other row as it was.
-#}
{{ resolution_config('int_incidents_folded') }}
-- depends_on: {{ ref('int_events_keyed') }}


{%- set window = var('resolution_window_hours') %}
{%- set hop_hours = window + 24 %}
{%- set reach_days = (((4 * var('resolution_rounds') - 2) * hop_hours) / 24) | round(0, 'ceil') | int + 1 %}

{#- what a candidate pair's measures are (its reports `a` and `b`) -#}
{%- set pair_columns %}
        a.report_number as report_a,
        b.report_number as report_b,
        a.agency_id as agency_a,
        b.agency_id as agency_b,
        -- hours between the two times' spans (0 when they overlap)
        greatest({{ seconds_between('b.occurred_at', 'a.ends_at') }}, {{ seconds_between('a.occurred_at', 'b.ends_at') }}, 0) / 3600.0
            as hours_apart,
        {{ haversine_km('a.latitude', 'a.longitude', 'b.latitude', 'b.longitude') }} as distance_km,
        a.admin2_pcode = b.admin2_pcode as is_same_admin2,
        coalesce(abs(a.fatalities - b.fatalities), 1) as fatalities_apart
{%- endset %}

{#- reports `a` and `b` alike, at most the window apart: the window is in the join, so the
    pairs it drops are never measured (the pair's agencies are each join's own) -#}
{%- set is_alike_and_near_in_time %}
            a.kind = b.kind
            and b.ends_at >= a.occurred_at - to_hours({{ window }})
            and b.occurred_at <= a.ends_at + to_hours({{ window }})
{%- endset %}

{% call resolved('incident_id', 'substr(md5(final.cluster_key), 1, 16)', 'agency') %}
with

{{ current_reports(ref('int_incidents_folded'), reach_days) }}

cell_sizes as (
    {{ grid_cell_sizes(var('resolution_distance_km'), ['current_reports']) }}
),

kinds as (
    -- a number per ACLED type and sub-type: the candidate search joins on it rather than on
    -- the two texts (12 -> 10 s of search at 10M events); a report without a type has none
    select
        incident_type,
        incident_sub_type,
        row_number() over (order by incident_type, incident_sub_type) as kind
    from (
        select distinct
            incident_type,
            incident_sub_type
        from current_reports
        where incident_type is not null
    ) as typed
),

reports as (
    select
        current_reports.record_key,
        {{ report_number() }} as report_number,
        current_reports.agency_id,
        kinds.kind,
        current_reports.fatalities,
        current_reports.occurred_at,
        current_reports.time_precision,
        -- the end of the time's span: a day-precision report is its whole day
        current_reports.occurred_at
        + if(current_reports.time_precision = 'day', interval 1 day, interval 0 second) as ends_at,
        current_reports.latitude,
        current_reports.longitude,
        current_reports.admin2_pcode,
        floor(current_reports.latitude / cell_sizes.latitude_degrees) as cell_y,
        floor(current_reports.longitude / cell_sizes.longitude_degrees) as cell_x,
        -- periods one hop long: two reports a hop apart are in the same or neighbouring
        -- periods, so the joins below never compare reports far apart in time
        floor(epoch(current_reports.occurred_at) / {{ hop_hours * 3600 }}) as period
    from current_reports
    cross join cell_sizes
    left join kinds
        on
            current_reports.incident_type = kinds.incident_type
            and current_reports.incident_sub_type is not distinct from kinds.incident_sub_type
    {{ on_input_days() }}
),

precise_reports as (
    -- what pairs are measured by (pairs hold report numbers: the record keys stay behind)
    select
        report_number,
        agency_id,
        kind,
        fatalities,
        occurred_at,
        ends_at,
        latitude,
        longitude,
        admin2_pcode,
        cell_y,
        cell_x,
        period
    from reports
    where time_precision in ('minute', 'day')
),

neighbourhoods as (
    -- each report with a point in its own period and cell and half of the 26 around it:
    -- of two neighbours, only the one whose offset to the other comes first looks for the
    -- other, so a pair is found once, and by half the lookups of all 27 (in its own
    -- period and cell, the report of the smaller agency looks)
    select
        precise_reports.*,
        precise_reports.period + neighbours_t.dt as near_period,
        precise_reports.cell_y + neighbours_y.dy as near_y,
        precise_reports.cell_x + neighbours_x.dx as near_x,
        neighbours_t.dt = 0 and neighbours_y.dy = 0 and neighbours_x.dx = 0 as is_own_cell
    from precise_reports
    cross join (values (-1), (0), (1)) as neighbours_t (dt)
    cross join (values (-1), (0), (1)) as neighbours_y (dy)
    cross join (values (-1), (0), (1)) as neighbours_x (dx)
    where
        precise_reports.latitude is not null
        and (
            neighbours_t.dt > 0
            or neighbours_t.dt = 0 and (neighbours_y.dy > 0 or neighbours_y.dy = 0 and neighbours_x.dx >= 0)
        )
),

pointless_periods as (
    -- each report without a point in the neighbouring periods
    select
        precise_reports.*,
        precise_reports.period + neighbours_t.dt as near_period
    from precise_reports
    cross join (values (-1), (0), (1)) as neighbours_t (dt)
    where precise_reports.latitude is null
),

measured as (
    -- both reports have a point: only neighbouring cells can be close enough
    select {{ pair_columns }}
    from neighbourhoods as a
    inner join precise_reports as b
        on
            a.near_y = b.cell_y
            and a.near_x = b.cell_x
            and a.near_period = b.period
            and if(a.is_own_cell, a.agency_id < b.agency_id, a.agency_id != b.agency_id)
            and {{ is_alike_and_near_in_time }}
    union all
    -- a report without a point can only match within the same admin2 area: `a` without
    -- a point, then `b` (the side without a point is the one spread over periods: there
    -- are few such reports)
    select {{ pair_columns }}
    from pointless_periods as a
    inner join precise_reports as b
        on
            a.admin2_pcode = b.admin2_pcode
            and a.near_period = b.period
            and a.agency_id < b.agency_id
            and {{ is_alike_and_near_in_time }}
    union all
    select {{ pair_columns }}
    from precise_reports as a
    inner join pointless_periods as b
        on
            a.admin2_pcode = b.admin2_pcode
            and a.period = b.near_period
            and a.agency_id < b.agency_id
            and {{ is_alike_and_near_in_time }}
    where a.latitude is not null
),

costed as (
    select
        report_a,
        report_b,
        agency_a,
        agency_b,
        hours_apart,
        distance_km,
        is_same_admin2,
        pow(hours_apart / {{ var('resolution_time_scale_hours') }}, 2)
        + pow(coalesce(distance_km, 0) / {{ var('resolution_distance_scale_km') }}, 2)
        + {{ var('resolution_fatality_weight') }} * fatalities_apart as cost
    from measured
),

candidates as (
    -- (within the window: the joins of `measured`) within the distance, or the same admin2
    -- area when a point is missing, and likely enough
    select
        report_a,
        report_b,
        agency_a,
        agency_b,
        cost
    from costed
    where
        coalesce(distance_km <= {{ var('resolution_distance_km') }}, is_same_admin2)
        and cost <= {{ var('resolution_max_cost') }}
),

{% endcall %}
