{#-
    Cross-agency resolution: reports of the same real incident by different agencies
    become one unified incident.

    Two current incident reports (folded, not retracted, not excluded) match when
      1. they come from different agencies,
      2. they have the same ACLED event type,
      3. their times are within var('resolution_window_hours') (default 24 h) of each other
         (for a day-precision report, its day widened by the window),
      4. their places are within var('resolution_distance_km') (default 10 km) by
         haversine distance when both have a point, else they lie in the same admin2 area.
    Of the matching pairs, each report keeps only its best match (nearest, then closest
    in time) among each other agency's reports, both ways (mutual best match). Matches are
    chained into connected components (A~B and B~C put A, B and C together);
    each component is one unified incident (`incident_id` = hash of its first record key),
    one row per source report here.

    Incremental, exactly: a match joins reports at most `hop` = window + 24 h apart, and
    whether it is a mutual best match depends on reports within one more hop; a report's
    component reaches at most 8 hops. So a report's incident depends only on the reports
    within 9 hops of it in time. An incremental run re-resolves the reports within that
    reach of the days of changed reports (their days before and after the change), from
    the reports within twice the reach, and leaves every other row as it was.
-#}
{{ resolution_config('int_incidents_folded') }}
-- depends_on: {{ ref('int_events_keyed') }}


{%- set window = var('resolution_window_hours') %}
{%- set hop_hours = window + 24 %}
{%- set cell_degrees = var('resolution_distance_km') / 111.32 / 0.5 %}
{%- set reach_days = ((9 * hop_hours) / 24) | round(0, 'ceil') | int + 1 %}
{%- set is_close = 'coalesce(distance_km <= ' ~ var('resolution_distance_km') ~ ', is_same_admin2)' %}

with

{{ current_reports(ref('int_incidents_folded'), reach_days) }}

reports as (
    select
        record_key,
        agency_id,
        incident_type,
        occurred_at,
        time_precision,
        latitude,
        longitude,
        admin2_pcode,
        {#- cells at least resolution_distance_km wide (up to 60 degrees of latitude): two
            points that close are in the same or neighbouring cells -#}
        floor(latitude / {{ cell_degrees }}) as cell_y,
        floor(longitude / {{ cell_degrees }}) as cell_x,
        {#- periods one hop long: two reports a hop apart are in the same or neighbouring
            periods, so the joins below never compare reports far apart in time -#}
        floor(epoch(occurred_at) / {{ hop_hours * 3600 }}) as period
    from current_reports
    {{ on_input_days() }}
),

periods as (
    select
        reports.*,
        reports.period + neighbours_t.dt as near_period
    from reports
    cross join (values (-1), (0), (1)) as neighbours_t (dt)
),

neighbourhoods as (
    select
        periods.*,
        periods.cell_y + neighbours_y.dy as near_y,
        periods.cell_x + neighbours_x.dx as near_x
    from periods
    cross join (values (-1), (0), (1)) as neighbours_y (dy)
    cross join (values (-1), (0), (1)) as neighbours_x (dx)
    where periods.latitude is not null
),

near_pairs as (
    -- both reports have a point: only neighbouring cells can be close enough
    select
        a.record_key as record_key_a,
        b.record_key as record_key_b,
        a.agency_id as agency_a,
        b.agency_id as agency_b,
        a.occurred_at as occurred_at_a,
        b.occurred_at as occurred_at_b,
        a.time_precision = 'day' or b.time_precision = 'day' as has_day_precision,
        {{ haversine_km('a.latitude', 'a.longitude', 'b.latitude', 'b.longitude') }} as distance_km,
        a.admin2_pcode = b.admin2_pcode as is_same_admin2
    from neighbourhoods as a
    inner join reports as b
        on
            a.incident_type = b.incident_type
            and a.near_y = b.cell_y
            and a.near_x = b.cell_x
            and a.near_period = b.period
            and a.agency_id < b.agency_id
            and b.occurred_at between a.occurred_at - to_hours({{ hop_hours }})
            and a.occurred_at + to_hours({{ hop_hours }})
),

area_pairs as (
    -- a report without a point can only match within the same admin2 area
    select
        a.record_key as record_key_a,
        b.record_key as record_key_b,
        a.agency_id as agency_a,
        b.agency_id as agency_b,
        a.occurred_at as occurred_at_a,
        b.occurred_at as occurred_at_b,
        a.time_precision = 'day' or b.time_precision = 'day' as has_day_precision,
        cast(null as double) as distance_km,
        true as is_same_admin2
    from periods as a
    inner join reports as b
        on
            a.incident_type = b.incident_type
            and a.admin2_pcode = b.admin2_pcode
            and a.near_period = b.period
            and a.agency_id < b.agency_id
            and b.occurred_at between a.occurred_at - to_hours({{ hop_hours }})
            and a.occurred_at + to_hours({{ hop_hours }})
    where a.latitude is null or b.latitude is null
),

candidates as (
    select
        record_key_a,
        record_key_b,
        agency_a,
        agency_b,
        distance_km,
        abs(epoch(occurred_at_b - occurred_at_a)) / 3600.0 as hours_apart,
        is_same_admin2
    from (
        select * from near_pairs
        union all
        select * from area_pairs
    ) as pairs_in_band
    -- for a day-precision report, its day widened by the window
    where abs(epoch(occurred_at_b - occurred_at_a)) / 3600.0
        <= {{ window }} + if(has_day_precision, 24, 0)
),

pairs as (
    -- within the distance (or the same admin2 area when a point is missing), and each
    -- report's best match among the other agency's reports, both ways (mutual best)
    {{ mutual_best('candidates', 'agency', 'coalesce(distance_km, 0), hours_apart', where=is_close) }}
),

{{ resolved('incident_id', 'substr(md5(components.component_key), 1, 16)') }}
