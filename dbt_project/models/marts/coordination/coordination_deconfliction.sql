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

    Incremental: a pair depends only on its patrol and its delivery, so a run removes the
    pairs of changed patrols and deliveries (pre-hook) and pairs them anew.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed(['patrol_id', 'delivery_id']) }}",
        post_hook="{{ save_watermark() }}",
    )
}}
-- depends_on: {{ ref('int_events_keyed') }}

{%- set cell_degrees = var('deconfliction_km') / 111.32 / 0.5 %}

{#- a delivery within the hours and the distance of a patrol (both sides are filtered
    before the join, so each side of an incremental run is small) -#}
{%- set is_near %}
    patrol_cells.cell_y = deliveries.cell_y
    and patrol_cells.cell_x = deliveries.cell_x
    and patrol_cells.day_number = deliveries.day_number
    and deliveries.delivered_until >= patrol_cells.started_at - to_hours({{ var('deconfliction_hours') }})
    and deliveries.delivered_at <= patrol_cells.ended_at + to_hours({{ var('deconfliction_hours') }})
    and {{ haversine_km('patrol_cells.latitude', 'patrol_cells.longitude', 'deliveries.latitude', 'deliveries.longitude') }}
    <= {{ var('deconfliction_km') }}
{%- endset %}

with

patrols as (
    select
        *,
        {% if is_incremental() -%}
            patrol_id in ({{ changed_record_keys() }})
        {%- else -%}
            true
        {%- endif %} as is_changed
    from {{ ref('fct_patrols') }}
    where latitude is not null
),

patrol_cells as (
    -- the cells and days a delivery near the patrol can be in: its delivered_at is at most
    -- the hours (plus a day, for a day-precision delivery) before the start or the hours
    -- after the end
    select
        patrols.patrol_id,
        patrols.started_at,
        patrols.ended_at,
        patrols.latitude,
        patrols.longitude,
        patrols.is_changed,
        floor(patrols.latitude / {{ cell_degrees }}) + neighbours_y.dy as cell_y,
        floor(patrols.longitude / {{ cell_degrees }}) + neighbours_x.dx as cell_x,
        unnest(range(
            cast(floor(epoch(patrols.started_at - to_hours({{ var('deconfliction_hours') }} + 24)) / 86400) as bigint),
            cast(floor(epoch(patrols.ended_at + to_hours({{ var('deconfliction_hours') }})) / 86400) as bigint) + 1
        )) as day_number
    from patrols
    cross join (values (-1), (0), (1)) as neighbours_y (dy)
    cross join (values (-1), (0), (1)) as neighbours_x (dx)
),

deliveries as (
    -- a day-precision delivery may have happened any time that day
    select
        *,
        delivered_at + if(time_precision = 'day', interval 1 day, interval 0 second)
            as delivered_until,
        floor(latitude / {{ cell_degrees }}) as cell_y,
        floor(longitude / {{ cell_degrees }}) as cell_x,
        cast(floor(epoch(delivered_at) / 86400) as bigint) as day_number,
        {% if is_incremental() -%}
            delivery_id in ({{ changed_record_keys() }})
        {%- else -%}
            false
        {%- endif %} as is_changed
    from {{ ref('fct_aid_deliveries') }}
    where latitude is not null
),

near as (
    -- a full build pairs every patrol; an incremental one the changed patrols with every
    -- delivery, and the other patrols with the changed deliveries
    select
        patrol_cells.patrol_id,
        deliveries.delivery_id
    from patrol_cells
    inner join deliveries on {{ is_near }}
    where patrol_cells.is_changed
    union all
    select
        patrol_cells.patrol_id,
        deliveries.delivery_id
    from patrol_cells
    inner join deliveries on {{ is_near }}
    where not patrol_cells.is_changed and deliveries.is_changed
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
    from near
    inner join patrols on near.patrol_id = patrols.patrol_id
    inner join deliveries on near.delivery_id = deliveries.delivery_id
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
