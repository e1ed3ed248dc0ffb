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
-#}

with

reports as (
    select
        record_key,
        agency_id,
        incident_type,
        occurred_at,
        time_precision,
        latitude,
        longitude,
        admin2_pcode
    from {{ ref('int_incidents_folded') }}
    where not is_retracted and not is_excluded
),

candidates as (
    select
        a.record_key as record_key_a,
        b.record_key as record_key_b,
        a.agency_id as agency_a,
        b.agency_id as agency_b,
        if(
            a.latitude is not null and b.latitude is not null,
            {{ haversine_km('a.latitude', 'a.longitude', 'b.latitude', 'b.longitude') }},
            null
        ) as distance_km,
        abs(epoch(b.occurred_at - a.occurred_at)) / 3600.0 as hours_apart,
        a.admin2_pcode = b.admin2_pcode as is_same_admin2
    from reports as a
    inner join reports as b
        on
            a.incident_type = b.incident_type
            and a.agency_id < b.agency_id
            and b.occurred_at
            >= a.occurred_at - to_hours({{ var('resolution_window_hours') }} + if(a.time_precision = 'day' or b.time_precision = 'day', 24, 0))
            and b.occurred_at
            <= a.occurred_at + to_hours({{ var('resolution_window_hours') }} + if(a.time_precision = 'day' or b.time_precision = 'day', 24, 0))
),

pairs as (
    -- within the distance (or the same admin2 area when a point is missing), and each
    -- report's best match among the other agency's reports, both ways (mutual best)
    select
        record_key_a,
        record_key_b
    from candidates
    where coalesce(distance_km <= {{ var('resolution_distance_km') }}, is_same_admin2)
    qualify
        row_number() over (
            partition by record_key_a, agency_b
            order by coalesce(distance_km, 0), hours_apart, record_key_b
        ) = 1
        and row_number() over (
            partition by record_key_b, agency_a
            order by coalesce(distance_km, 0), hours_apart, record_key_a
        ) = 1
),

edges as (
    select
        record_key_a as from_key,
        record_key_b as to_key
    from pairs
    union all
    select
        record_key_b as from_key,
        record_key_a as to_key
    from pairs
),

components as (
    {#- reach through matches, at most 8 hops (mutual best matches keep the degree at most
        the number of other agencies, so components stay small) -#}
    with recursive reach (record_key, member_key, hops) as (
        select
            record_key,
            record_key as member_key,
            0 as hops
        from reports
        union
        select
            reach.record_key,
            edges.to_key as member_key,
            reach.hops + 1 as hops
        from reach
        inner join edges on reach.member_key = edges.from_key
        where reach.hops < 8
    )

    select
        record_key,
        min(member_key) as component_key
    from reach
    group by record_key
)

select
    substr(md5(components.component_key), 1, 16) as incident_id,
    components.record_key,
    components.component_key
from components
