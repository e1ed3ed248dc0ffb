{#-
    Cross-agency resolution, shared by incidents and deliveries: reports matched in pairs
    (each report's mutual best match among another agency's or feed's reports) are chained
    into connected components; each component is one real thing.
-#}

{#- `pairs` (record_key_a, record_key_b) over `reports` (record_key): every report with the
    smallest record key of its component (itself when it matched nothing). -#}
{% macro components(pairs, reports) -%}
    with

    edges as (
        select
            record_key_a as from_key,
            record_key_b as to_key
        from {{ pairs }}
        union all
        select
            record_key_b as from_key,
            record_key_a as to_key
        from {{ pairs }}
    ),

    matched as (
        -- the reports with at least one match, numbered in record key order (so the smallest
        -- number of a component is its smallest record key); the others are alone
        select
            from_key as record_key,
            row_number() over (order by from_key) as node
        from (select distinct edges.from_key from edges) as keys
    ),

    node_edges as (
        select
            from_node.node as from_node,
            to_node.node as to_node
        from edges
        inner join matched as from_node on edges.from_key = from_node.record_key
        inner join matched as to_node on edges.to_key = to_node.record_key
    ),

    reached as (
        {#- reach through matches, at most 8 hops (mutual best matches keep the degree at most
            the number of other agencies, so components stay small); on integers, and only
            over matched reports: the recursion is held in memory -#}
        with recursive reach (node, member, hops) as (
            select
                node,
                node as member,
                0 as hops
            from matched
            union
            select
                reach.node,
                node_edges.to_node as member,
                reach.hops + 1 as hops
            from reach
            inner join node_edges on reach.member = node_edges.from_node
            where reach.hops < 8
        )

        select
            node,
            min(member) as component_node
        from reach
        group by node
    )

    select
        {{ reports }}.record_key,
        coalesce(component.record_key, {{ reports }}.record_key) as component_key
    from {{ reports }}
    left join matched on {{ reports }}.record_key = matched.record_key
    left join reached on matched.node = reached.node
    left join matched as component on reached.component_node = component.node
{%- endmacro %}

{#- The configuration of a resolution model over `folded` (one row per current report there,
    re-resolved by days in an incremental run; reports gone from `folded` deleted after). -#}
{% macro resolution_config(folded) -%}
    {{
        config(
            materialized='incremental',
            unique_key='record_key',
            incremental_strategy='delete+insert',
            on_schema_change='fail',
            post_hook=[
                "{{ delete_gone_reports(ref('" ~ folded ~ "')) }}",
                "{{ save_watermark() }}",
            ],
        )
    }}
{%- endmacro %}

{#- The CTE `current_reports` (the reports of `folded` neither retracted nor excluded) and,
    in an incremental run, the CTEs of resolution_days; each followed by a comma. -#}
{% macro current_reports(folded, reach_days) -%}
    current_reports as (
        select * from {{ folded }}
        where not is_retracted and not is_excluded
    ),

    {% if is_incremental() %}
        {{ resolution_days(folded, reach_days) }}
    {% endif %}
{%- endmacro %}

{#- In a `where` of the reports CTE: in an incremental run, only the input days. -#}
{% macro on_input_days() -%}
    {% if is_incremental() %}
        where cast(occurred_at as date) in (select input_days.input_on from input_days)
    {% endif %}
{%- endmacro %}

{#- In an incremental run of a resolution whose reports depend only on the reports within
    `reach_days` of them: the days of the reports changed since the watermark (in `folded`,
    as they were resolved before and as they are now), the days whose reports are
    re-resolved (`affected_days`, within the reach of a changed day) and the days those
    depend on (`input_days`, twice the reach). CTEs, each followed by a comma. -#}
{% macro resolution_days(folded, reach_days) -%}
    changed_days as (
        -- the days of changed reports as resolved before, and as they are now
        select cast(resolved.occurred_at as date) as changed_on
        from {{ this }} as resolved
        where resolved.record_key in ({{ changed_record_keys() }})
        union
        select cast(folded.occurred_at as date) as changed_on
        from {{ folded }} as folded
        where folded.record_key in ({{ changed_record_keys() }})
    ),

    affected_days as (
        -- reports whose resolution may change
        select distinct changed_days.changed_on + cast(day_offsets.day_offset as integer) as affected_on
        from changed_days
        cross join range(-{{ reach_days }}, {{ reach_days }} + 1) as day_offsets (day_offset)
    ),

    input_days as (
        -- everything their resolution depends on
        select distinct changed_days.changed_on + cast(day_offsets.day_offset as integer) as input_on
        from changed_days
        cross join range(-2 * {{ reach_days }}, 2 * {{ reach_days }} + 1) as day_offsets (day_offset)
    ),
{%- endmacro %}

{#- The pairs of `candidates` (record_key_a, record_key_b, `side`_a, `side`_b) that are each
    report's best match among the other side's reports (the closest by `closeness`, then
    the smallest record key), both ways; only those `where` holds. -#}
{% macro mutual_best(candidates, side, closeness, where='true') -%}
    select
        record_key_a,
        record_key_b
    from {{ candidates }}
    where {{ where }}
    qualify
        row_number() over (
            partition by record_key_a, {{ side }}_b
            order by {{ closeness }}, record_key_b
        ) = 1
        and row_number() over (
            partition by record_key_b, {{ side }}_a
            order by {{ closeness }}, record_key_a
        ) = 1
{%- endmacro %}

{#- The end of a resolution model after its `reports` and `pairs` CTEs: the components, and
    one row per report with what it resolved into (`id_column` = `id_expression` over the
    component's key); an incremental run keeps the reports of the affected days. -#}
{% macro resolved(id_column, id_expression) -%}
components as (
    {{ components('pairs', 'reports') }}
)

select
    {{ id_expression }} as {{ id_column }},
    components.record_key,
    components.component_key,
    reports.occurred_at,
    {{ run_started() }} as resolved_at
from components
inner join reports on components.record_key = reports.record_key
{% if is_incremental() %}
    where cast(reports.occurred_at as date) in (select affected_days.affected_on from affected_days)
{% endif %}
{%- endmacro %}
