{#-
    Cross-agency resolution, shared by incidents and deliveries: candidate pairs of reports
    (from different agencies or feeds, each with a cost) are gathered into clusters, each
    one real thing (docs/resolution.md).
-#}

{#- Reports gathered into clusters, each one real thing. `candidates` (report_a, report_b,
    cost) are the report pairs that may be the same thing (the lower the cost, the likelier);
    `reports` (report_number). A candidate pair is listed once and its reports are of
    different sides (agencies or feeds). From one cluster per report, each of `rounds`
    rounds merges every two clusters that are each other's cheapest partner (reciprocal
    nearest neighbours), under complete link: two clusters can merge only if every report of
    one is a candidate of every report of the other (so no side is in both), at the cost of
    their costliest pair. (Mutual best pairs chained into components merged different
    incidents along chains; complete link does not.) CTEs clusters_0 .. clusters_`rounds`
    (report_number, cluster_number: the smallest report number of the cluster), each
    followed by a comma. `ctes` is the model's SQL up to
    here (`with` and the CTEs that define `candidates` and `reports`, each followed by a
    comma): on DuckDB it is already in the query; Spark computes the rounds from it. -#}
{% macro report_clusters(candidates, reports, rounds, ctes) -%}
    {{ return(adapter.dispatch('report_clusters')(candidates, reports, rounds, ctes)) }}
{%- endmacro %}

{% macro default__report_clusters(candidates, reports, rounds, ctes) -%}
    clusters_0 as (
        {{ first_clusters(reports) }}
    ),
    {% for round in range(1, rounds + 1) %}
        clusters_{{ round }} as (
            {{ cluster_round(candidates, 'clusters_' ~ (round - 1), round == 1) }}
        ),
    {% endfor %}
{%- endmacro %}

{#- On Spark each round is a table of its own (`<model>__clusters_<round>`, beside the
    model, replaced by the next build), computed from the one before: Spark copies a CTE
    into every place that reads it, each round reads the round before seventeen times
    over (twice per pair, through four copies of the pairs, and its sizes), and the plan of
    three rounds as one query ran the driver out of memory before it ran. Read back from
    Parquet, a round is one leaf of the next round's plan. The candidates' pairs are one
    table too (`<model>__clusters_pairs`), computed once for every round. -#}
{% macro spark__report_clusters(candidates, reports, rounds, ctes) -%}
    {%- set pairs = this.incorporate(path={'identifier': this.identifier ~ '__clusters_pairs'}) %}
    {%- set tables = [] %}
    {%- for round in range(0, rounds + 1) %}
        {%- do tables.append(this.incorporate(path={'identifier': this.identifier ~ '__clusters_' ~ round})) %}
    {%- endfor %}
    {%- if execute %}
        {%- do run_query('drop table if exists ' ~ pairs) %}
        {%- do run_query('create table ' ~ pairs ~ ' using parquet as ' ~ ctes
            ~ ' clusters_pairs as (select report_a, report_b, cost from ' ~ candidates ~ ')'
            ~ ' select * from clusters_pairs') %}
        {%- do run_query('drop table if exists ' ~ tables[0]) %}
        {%- do run_query('create table ' ~ tables[0] ~ ' using parquet as ' ~ ctes
            ~ ' clusters_0 as (' ~ first_clusters(reports) ~ ') select * from clusters_0') %}
        {%- for round in range(1, rounds + 1) %}
            {%- do run_query('drop table if exists ' ~ tables[round]) %}
            {%- do run_query('create table ' ~ tables[round] ~ ' using parquet as '
                ~ cluster_round(pairs, tables[round - 1], round == 1)) %}
        {%- endfor %}
    {%- endif %}
    {%- for table in tables %}
        clusters_{{ loop.index0 }} as (
            select * from {{ table }}
        ),
    {%- endfor %}
{%- endmacro %}

{#- Round 0 of report_clusters: every report a cluster of its own. -#}
{% macro first_clusters(reports) -%}
        select
            report_number,
            report_number as cluster_number
        from {{ reports }}
{%- endmacro %}

{#- One round of report_clusters: the clusters after `previous` (a relation of report_number,
    cluster_number), merged over the pairs of `candidates`. In the `first` round every
    cluster is one report, so every pair (listed once) links two clusters that may merge. -#}
{% macro cluster_round(candidates, previous, first) -%}
            with

            {% if first -%}
            mergeable as (
                select
                    report_a as cluster_a,
                    report_b as cluster_b,
                    cost
                from {{ candidates }}
            ),
            {%- else -%}
            sizes as (
                select
                    cluster_number,
                    count(*) as report_count
                from {{ previous }}
                group by cluster_number
            ),

            linked as (
                select
                    least(a.cluster_number, b.cluster_number) as cluster_a,
                    greatest(a.cluster_number, b.cluster_number) as cluster_b,
                    max(pairs.cost) as cost,
                    count(*) as pair_count
                from {{ candidates }} as pairs
                inner join {{ previous }} as a on pairs.report_a = a.report_number
                inner join {{ previous }} as b on pairs.report_b = b.report_number
                where a.cluster_number != b.cluster_number
                group by least(a.cluster_number, b.cluster_number), greatest(a.cluster_number, b.cluster_number)
            ),

            mergeable as (
                select
                    linked.cluster_a,
                    linked.cluster_b,
                    linked.cost
                from linked
                inner join sizes as size_a on linked.cluster_a = size_a.cluster_number
                inner join sizes as size_b on linked.cluster_b = size_b.cluster_number
                where linked.pair_count = size_a.report_count * size_b.report_count
            ),
            {%- endif %}

            nearest as (
                -- each cluster's cheapest partner, the smaller on a tie
                select
                    cluster_number,
                    min_by(partner, {{ tuple_of(['cost', 'partner']) }}) as partner
                from (
                    select
                        cluster_a as cluster_number,
                        cluster_b as partner,
                        cost
                    from mergeable
                    union all
                    select
                        cluster_b as cluster_number,
                        cluster_a as partner,
                        cost
                    from mergeable
                ) as both_ways
                group by cluster_number
            ),

            merged as (
                select
                    nearest.partner as merged_number,
                    nearest.cluster_number as into_number
                from nearest
                inner join nearest as back
                    on nearest.partner = back.cluster_number and back.partner = nearest.cluster_number
                where nearest.cluster_number < nearest.partner
            )

            select
                previous.report_number,
                coalesce(merged.into_number, previous.cluster_number) as cluster_number
            from {{ previous }} as previous
            left join merged on previous.cluster_number = merged.merged_number
{%- endmacro %}

{#- The configuration of a resolution model over `folded` (one row per current report there,
    re-resolved by days in an incremental run; reports gone from `folded` deleted after). -#}
{% macro resolution_config(folded) -%}
    {{
        config(
            materialized=incremental_or_table(),
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
        where {{ utc_date('occurred_at') }} in (select input_days.input_on from input_days)
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
        select {{ utc_date('resolved.occurred_at') }} as changed_on
        from {{ this }} as resolved
        where resolved.record_key in ({{ changed_record_keys() }})
        union
        select {{ utc_date('folded.occurred_at') }} as changed_on
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

{#- The numbers of a resolution model's `reports`, in the order of their record keys (so the
    smallest number of a cluster is its smallest record key): the clusters are worked out
    over numbers, whose joins and pairs take a fraction of the memory of the keys'. -#}
{% macro report_number() -%}
    row_number() over (order by record_key)
{%- endmacro %}

{#- The end of a resolution model, called with its SQL up to there (`with` and CTEs, each
    followed by a comma) that defines `reports` (record_key, report_number, occurred_at)
    and `candidates` (report_a/_b, `side`_a/_b, cost): the clusters, and one row
    per report with what it resolved into (`id_column` = `id_expression` over the cluster's
    key, `final.cluster_key`) and its near ties (the other candidates of a side whose cost is
    within var('resolution_review_margin') of the cheapest: where the rule could hardly tell,
    listed by review_resolution_pairs); an incremental run keeps the reports of the affected
    days. -#}
{% macro resolved(id_column, id_expression, side) -%}
{%- set rounds = var('resolution_rounds') %}
{%- set ctes = caller() %}
{{ ctes }}
{{ report_clusters("candidates", "reports", rounds, ctes) }}

both_ways as (
    -- each report's candidates, and the side each is of
    select
        report_a as report_number,
        report_b as candidate_number,
        {{ side }}_b as candidate_side,
        cost
    from candidates
    union all
    select
        report_b as report_number,
        report_a as candidate_number,
        {{ side }}_a as candidate_side,
        cost
    from candidates
),

tied_sides as (
    -- the sides of a report whose two cheapest candidates are within the margin: the near
    -- ties (one pass over the candidates; the cheapest cost is where the margin counts from)
    select
        report_number,
        candidate_side,
        {{ list_item('costs', 1) }} as cheapest_cost
    from (
        select
            report_number,
            candidate_side,
            {{ smallest_values('cost', 2) }} as costs
        from both_ways
        group by report_number, candidate_side
    ) as sides
    where {{ list_item('costs', 2) }} - {{ list_item('costs', 1) }} < {{ var('resolution_review_margin') }}
),

near_ties as (
    -- the candidates of a tied side within the margin of its cheapest (by cost, then record
    -- key: report numbers are in record key order)
    select
        both_ways.report_number,
        {{ ordered_list(struct_of([('candidate_key', 'candidates.record_key'), ('cost', 'round(both_ways.cost, 3)')]),
            ['both_ways.cost', 'both_ways.candidate_number']) }} as near_ties
    from both_ways
    inner join tied_sides
        on
            both_ways.report_number = tied_sides.report_number
            and both_ways.candidate_side = tied_sides.candidate_side
    inner join reports as candidates on both_ways.candidate_number = candidates.report_number
    where both_ways.cost - tied_sides.cheapest_cost < {{ var('resolution_review_margin') }}
    group by both_ways.report_number
),

final as (
    select
        reports.record_key,
        clusters.record_key as cluster_key,
        reports.occurred_at,
        near_ties.near_ties
    from clusters_{{ rounds }} as resolved
    inner join reports on resolved.report_number = reports.report_number
    inner join reports as clusters on resolved.cluster_number = clusters.report_number
    left join near_ties on resolved.report_number = near_ties.report_number
)

select
    {{ id_expression }} as {{ id_column }},
    final.record_key,
    final.cluster_key,
    final.occurred_at,
    coalesce(final.near_ties, {{ empty_list() }}) as near_ties,
    {{ run_started() }} as resolved_at
from final
{% if is_incremental() %}
    where {{ utc_date('final.occurred_at') }} in (select affected_days.affected_on from affected_days)
{% endif %}
{%- endmacro %}
