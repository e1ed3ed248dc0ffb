{#-
    Civil-military deconfliction: a patrol and an aid delivery (aid movement) within
    var('deconfliction_km') km (default 5, haversine between the patrol's start point and
    the delivery's point) and var('deconfliction_hours') hours (default 6, between the
    delivery time and the patrol's start-end span). Deliveries known only at admin-area
    level have no point and cannot be deconflicted by distance; they are left out.

    Candidate pairs come from a grid of cells at least deconfliction_km wide (macro
    grid_cell_sizes): a delivery can only be that close to a patrol in the patrol's
    cell or one of its eight neighbours. This keeps the join proportional to the pairs that
    are near in space, not to every pair near in time.

    Incremental: a pair depends only on its patrol and its delivery, so a run removes the
    pairs of changed patrols and deliveries (pre-hook) and pairs them anew.

    DuckDB guesses the pairs a thousand times too few (35M at 10M events): left to choose,
    it builds its hash tables on the pairs and spills gigabytes. A full build keeps the
    sides written here (join_sides): the deliveries, and then the marts, are built
    on. An incremental run's few changed pairs are DuckDB's to place.
-#}
{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_changed({'patrol_id': 'patrol', 'delivery_id': 'delivery'}) }}",
            "{{ join_sides(true) if not is_incremental() }}",
        ],
        post_hook=["{{ join_sides(false) }}", "{{ save_watermark() }}"],
    )
}}
-- depends_on: {{ ref('int_events_keyed') }}
-- depends_on: {{ ref('int_deliveries_resolved') }}

{#- a delivery within the hours and the distance of a patrol -#}
{%- set is_near %}
    deliveries.delivered_until >= patrols.started_at - to_hours({{ var('deconfliction_hours') }})
    and deliveries.delivered_at <= patrols.ended_at + to_hours({{ var('deconfliction_hours') }})
    and {{ haversine_km('patrols.latitude', 'patrols.longitude', 'deliveries.latitude', 'deliveries.longitude') }}
    <= {{ var('deconfliction_km') }}
{%- endset %}

{#- how far apart a patrol and a delivery are -#}
{%- set measures %}
        patrols.patrol_row,
        deliveries.delivery_row,
        {{ haversine_km('patrols.latitude', 'patrols.longitude', 'deliveries.latitude', 'deliveries.longitude') }}
            as distance_km,
        greatest(
            {{ seconds_between('patrols.started_at', 'deliveries.delivered_until') }},
            {{ seconds_between('deliveries.delivered_at', 'patrols.ended_at') }},
            0
        ) / 3600.0 as hours_apart
{%- endset %}

with

cell_sizes as (
    {{ grid_cell_sizes(var('deconfliction_km'), [ref('fct_patrols'), ref('fct_aid_deliveries')]) }}
),

patrols as (
    -- what pairs are found by: the rest of a pair's columns are joined to the pairs found
    -- (carried through the search, they cost 13 s of its 94 at 10M events)
    select
        {{ row_locator('fct_patrols', 'patrol_id') }} as patrol_row,
        fct_patrols.latitude,
        fct_patrols.longitude,
        fct_patrols.started_at,
        fct_patrols.ended_at,
        floor(fct_patrols.latitude / cell_sizes.latitude_degrees) as cell_y,
        floor(fct_patrols.longitude / cell_sizes.longitude_degrees) as cell_x,
        -- the days a delivery near it can be on (from the first, before the second): see
        -- changed_patrol_cells
        cast(floor(epoch(fct_patrols.started_at - to_hours({{ var('deconfliction_hours') }} + 24)) / 86400) as bigint)
            as first_near_day,
        cast(floor(epoch(fct_patrols.ended_at + to_hours({{ var('deconfliction_hours') }})) / 86400) as bigint) + 1
            as after_near_day,
        {% if is_incremental() -%}
            {{ is_changed('patrol_id', 'patrol') }}
        {%- else -%}
            true
        {%- endif %} as is_changed
    from {{ ref('fct_patrols') }} as fct_patrols
    cross join cell_sizes
    where fct_patrols.latitude is not null
),

deliveries as (
    -- a day-precision delivery may have happened any time that day
    select
        {{ row_locator('fct_aid_deliveries', 'delivery_id') }} as delivery_row,
        fct_aid_deliveries.latitude,
        fct_aid_deliveries.longitude,
        fct_aid_deliveries.delivered_at,
        fct_aid_deliveries.delivered_at
        + if(fct_aid_deliveries.time_precision = 'day', interval 1 day, interval 0 second)
            as delivered_until,
        floor(fct_aid_deliveries.latitude / cell_sizes.latitude_degrees) as cell_y,
        floor(fct_aid_deliveries.longitude / cell_sizes.longitude_degrees) as cell_x,
        cast(floor(epoch(fct_aid_deliveries.delivered_at) / 86400) as bigint) as day_number,
        {% if is_incremental() -%}
            {{ is_changed('delivery_id', 'delivery') }}
        {%- else -%}
            false
        {%- endif %} as is_changed
    from {{ ref('fct_aid_deliveries') }} as fct_aid_deliveries
    cross join cell_sizes
    where fct_aid_deliveries.latitude is not null
),

changed_patrol_cells as (
    -- for each changed patrol (every patrol in a full build), the cells and days a
    -- delivery near it can be in: its delivered_at is at most the hours (plus a day, for
    -- a day-precision delivery) before the start or the hours after the end
    select
        patrols.*,
        patrols.cell_y + neighbours_y.dy as near_y,
        patrols.cell_x + neighbours_x.dx as near_x,
        -- (the bounds are columns of `patrols`: Spark cannot call its SQL functions, such as
        -- epoch, in the arguments of explode)
        {{ list_values(range_list('patrols.first_near_day', 'patrols.after_near_day')) }} as day_number
    from patrols
    cross join (values (-1), (0), (1)) as neighbours_y (dy)
    cross join (values (-1), (0), (1)) as neighbours_x (dx)
    where patrols.is_changed
),

changed_delivery_cells as (
    -- for each changed delivery (none in a full build), the cells a patrol near it can be in
    select
        deliveries.delivery_row,
        deliveries.cell_y + neighbours_y.dy as near_y,
        deliveries.cell_x + neighbours_x.dx as near_x
    from deliveries
    cross join (values (-1), (0), (1)) as neighbours_y (dy)
    cross join (values (-1), (0), (1)) as neighbours_x (dx)
    where deliveries.is_changed
),

pairs as (
    -- the changed patrols with every delivery, and the other patrols with the changed
    -- deliveries: each side of an incremental run is only as large as the change
    select {{ measures }}
    from changed_patrol_cells as patrols
    inner join deliveries
        on
            patrols.near_y = deliveries.cell_y
            and patrols.near_x = deliveries.cell_x
            and patrols.day_number = deliveries.day_number
    where {{ is_near }}
    union all
    select {{ measures }}
    from changed_delivery_cells as cells
    inner join deliveries on cells.delivery_row = deliveries.delivery_row
    inner join patrols on cells.near_y = patrols.cell_y and cells.near_x = patrols.cell_x
    where not patrols.is_changed and {{ is_near }}
)

select
    patrols.patrol_id || '|' || deliveries.delivery_id as deconfliction_id,
    patrols.patrol_id,
    deliveries.delivery_id,
    patrols.agency_id as patrol_agency_id,
    deliveries.agency_id as delivery_agency_id,
    deliveries.organisation_name,
    patrols.started_at as patrol_started_at,
    patrols.ended_at as patrol_ended_at,
    deliveries.delivered_at,
    deliveries.time_precision as delivery_time_precision,
    round(pairs.distance_km, 3) as distance_km,
    round(pairs.hours_apart, 2) as hours_apart,
    coalesce(deliveries.admin2_pcode, patrols.admin2_pcode) as admin2_pcode,
    {{ list_concat('patrols.source_event_ids', 'deliveries.source_event_ids') }} as source_event_ids,
    {{ list_size('patrols.source_event_ids') }} + {{ list_size('deliveries.source_event_ids') }} as source_count,
    {{ releasability_levels() }}[greatest(
        {{ releasability_rank('patrols.releasability') }},
        {{ releasability_rank('deliveries.releasability') }}
    )] as releasability
from pairs
inner join {{ ref('fct_patrols') }} as patrols on pairs.patrol_row = {{ row_locator('patrols', 'patrol_id') }}
inner join {{ ref('fct_aid_deliveries') }} as deliveries
    on pairs.delivery_row = {{ row_locator('deliveries', 'delivery_id') }}
