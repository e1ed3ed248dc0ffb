{#-
    Duplication of effort: two or more organisations delivering the same IASC cluster in
    the same admin area in the same ISO week (weeks start on Monday). The area is the
    delivery's finest: its admin2, or its admin1 (country) when it is known only that far.

    Incremental: a run recomputes the weeks in which changed deliveries were or now are
    (macro changed_weeks), after its pre-hook removed those weeks' rows.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_weeks('delivery') }}",
        post_hook="{{ save_watermark() }}",
    )
}}
-- depends_on: {{ ref('int_events_keyed') }}
-- depends_on: {{ ref('int_deliveries_resolved') }}

with

deliveries as (
    select
        *,
        cast(date_trunc('week', delivered_on) as date) as week_start,
        coalesce(organisation_name, agency_id) as organisation,
        coalesce(admin2_pcode, admin1_pcode, admin0_pcode) as area_pcode
    from {{ ref('fct_aid_deliveries') }}
    {% if is_incremental() %}
        where cast(date_trunc('week', delivered_on) as date) in ({{ changed_weeks('delivery') }})
    {% endif %}
),

grouped as (
    select
        area_pcode,
        cluster_code,
        week_start,
        any_value(admin_level) as admin_level,
        any_value(admin2_pcode) as admin2_pcode,
        any_value(admin1_pcode) as admin1_pcode,
        any_value(admin0_pcode) as admin0_pcode,
        any_value(cluster_name) as cluster_name,
        count(distinct organisation) as organisation_count,
        list(distinct organisation order by organisation) as organisations,
        count(*) as delivery_count,
        cast(sum(beneficiaries) as bigint) as beneficiaries,
        list(delivery_id order by delivery_id) as delivery_ids,
        flatten(list(source_event_ids order by delivery_id)) as source_event_ids,
        {{ strictest_releasability('releasability') }} as releasability
    from deliveries
    group by area_pcode, cluster_code, week_start
)

select
    area_pcode || '|' || cluster_code || '|' || strftime(week_start, '%Y-%m-%d') as duplication_id,
    area_pcode,
    admin_level,
    admin2_pcode,
    admin1_pcode,
    admin0_pcode,
    cluster_code,
    cluster_name,
    week_start,
    organisation_count,
    organisations,
    delivery_count,
    beneficiaries,
    delivery_ids,
    source_event_ids,
    len(source_event_ids) as source_count,
    releasability
from grouped
where organisation_count >= 2
