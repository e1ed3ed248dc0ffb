{#-
    Civil-military deconfliction: a patrol and an aid delivery (aid movement) within
    var('deconfliction_km') km (default 5, haversine between the patrol's start point and
    the delivery's point) and var('deconfliction_hours') hours (default 6, between the
    delivery time and the patrol's start-end span). Deliveries known only at admin-area
    level have no point and cannot be deconflicted by distance; they are left out.

    Candidate pairs come from a grid of cells at least deconfliction_km wide (up to 60
    degrees of latitude): a delivery can only be that close to a patrol in the patrol's
    cell or one of its eight neighbours. This keeps the join proportional to the pairs that
    are near in space, not to every pair near in time.
-#}

{%- set cell_degrees = var('deconfliction_km') / 111.32 / 0.5 %}

with

patrols as (
    select
        fct_patrols.*,
        floor(fct_patrols.latitude / {{ cell_degrees }}) + neighbours_y.dy as cell_y,
        floor(fct_patrols.longitude / {{ cell_degrees }}) + neighbours_x.dx as cell_x
    from {{ ref('fct_patrols') }} as fct_patrols
    cross join (values (-1), (0), (1)) as neighbours_y (dy)
    cross join (values (-1), (0), (1)) as neighbours_x (dx)
    where fct_patrols.latitude is not null
),

deliveries as (
    -- a day-precision delivery may have happened any time that day
    select
        *,
        delivered_at + if(time_precision = 'day', interval 1 day, interval 0 second)
            as delivered_until,
        floor(latitude / {{ cell_degrees }}) as cell_y,
        floor(longitude / {{ cell_degrees }}) as cell_x
    from {{ ref('fct_aid_deliveries') }}
    where latitude is not null
),

pairs as (
    select
        patrols.patrol_id,
        deliveries.delivery_id,
        patrols.agency_id as patrol_agency_id,
        deliveries.agency_id as delivery_agency_id,
        deliveries.organisation_name,
        patrols.started_at as patrol_started_at,
        patrols.ended_at as patrol_ended_at,
        deliveries.delivered_at,
        deliveries.time_precision as delivery_time_precision,
        {{ haversine_km('patrols.latitude', 'patrols.longitude', 'deliveries.latitude', 'deliveries.longitude') }}
            as distance_km,
        greatest(
            epoch(patrols.started_at - deliveries.delivered_until),
            epoch(deliveries.delivered_at - patrols.ended_at),
            0
        ) / 3600.0 as hours_apart,
        coalesce(deliveries.admin2_pcode, patrols.admin2_pcode) as admin2_pcode,
        list_concat(patrols.source_event_ids, deliveries.source_event_ids) as source_event_ids,
        {{ releasability_levels() }}[greatest(
            {{ releasability_rank('patrols.releasability') }},
            {{ releasability_rank('deliveries.releasability') }}
        )] as releasability
    from patrols
    inner join deliveries
        on
            patrols.cell_y = deliveries.cell_y
            and patrols.cell_x = deliveries.cell_x
            and deliveries.delivered_until >= patrols.started_at - to_hours({{ var('deconfliction_hours') }})
            and deliveries.delivered_at <= patrols.ended_at + to_hours({{ var('deconfliction_hours') }})
)

select
    patrol_id || '|' || delivery_id as deconfliction_id,
    patrol_id,
    delivery_id,
    patrol_agency_id,
    delivery_agency_id,
    organisation_name,
    patrol_started_at,
    patrol_ended_at,
    delivered_at,
    delivery_time_precision,
    round(distance_km, 3) as distance_km,
    round(hours_apart, 2) as hours_apart,
    admin2_pcode,
    source_event_ids,
    len(source_event_ids) as source_count,
    releasability
from pairs
where distance_km <= {{ var('deconfliction_km') }}
