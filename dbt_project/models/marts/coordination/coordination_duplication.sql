{#-
    Duplication of effort: two or more organisations delivering, or present (3W operational
    presence), in the same IASC cluster and the same admin area in the same ISO week
    (weeks start on Monday). The area is the delivery's (presence's) finest: its admin2,
    or its admin1 (country) when it is known only that far. Organisations are told apart
    by their names' key (case, accents and punctuation aside).

    Incremental: a run recomputes the weeks in which changed deliveries were or now are
    (macro changed_weeks), after its pre-hook removed those weeks' rows; a change of
    presence (its periods span many weeks) recomputes every week.
-#}
{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_weeks('delivery', also_presence=true) }}",
        post_hook="{{ save_watermark() }}",
    )
}}
-- depends_on: {{ ref('int_events_keyed') }}
-- depends_on: {{ ref('int_deliveries_resolved') }}
-- depends_on: {{ ref('int_presence_folded') }}

with

deliveries as (
    select
        coalesce(admin2_pcode, admin1_pcode, admin0_pcode) as area_pcode,
        admin_level,
        admin2_pcode,
        admin1_pcode,
        admin0_pcode,
        cluster_code,
        cluster_name,
        cast(date_trunc('week', delivered_on) as date) as week_start,
        coalesce(organisation_name, agency_id) as organisation,
        delivery_id,
        cast(null as {{ sql_type('varchar') }}) as presence_id,
        beneficiaries,
        source_event_ids,
        releasability
    from {{ ref('fct_aid_deliveries') }}
),

presence as (
    -- each organisation present in a cluster and area, once per week of its period
    select
        coalesce(presence.admin2_code, presence.admin1_code, presence.admin0_pcode) as area_pcode,
        presence.admin_level,
        presence.admin2_code as admin2_pcode,
        presence.admin1_code as admin1_pcode,
        presence.admin0_pcode,
        presence.sector_code as cluster_code,
        presence.sector_name as cluster_name,
        cast(weeks.week_start as date) as week_start,
        presence.org_name as organisation,
        cast(null as {{ sql_type('varchar') }}) as delivery_id,
        presence.presence_id,
        cast(null as bigint) as beneficiaries,
        presence.source_event_ids,
        presence.releasability
    from {{ ref('fct_operational_presence') }} as presence,
        {{ list_rows(series_list(
            "date_trunc('week', presence.reference_period_start)",
            'presence.reference_period_end',
            'interval 7 day'
        )) }} as weeks (week_start)
),

activities as (
    select *
    from (
        select * from deliveries
        union all
        select * from presence
    ) as both_kinds
    {% if is_incremental() %}
        where {{ in_changed_weeks('delivery', also_presence=true) }}
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
        count(distinct {{ name_key('organisation') }}) as organisation_count,
        {{ ordered_list('organisation', ['organisation'], distinct=true, filter='delivery_id is not null') }}
            as organisations,
        {{ ordered_list('organisation', ['organisation'], distinct=true, filter='presence_id is not null') }}
            as present_organisations,
        count(delivery_id) as delivery_count,
        cast(sum(beneficiaries) as bigint) as beneficiaries,
        {{ ordered_list('delivery_id', ['delivery_id'], filter='delivery_id is not null') }} as delivery_ids,
        {{ ordered_list('presence_id', ['presence_id'], filter='presence_id is not null') }} as presence_ids,
        flatten({{ ordered_list('source_event_ids', ['delivery_id', 'presence_id']) }}) as source_event_ids,
        {{ strictest_releasability('releasability') }} as releasability
    from activities
    group by area_pcode, cluster_code, week_start
)

select
    area_pcode || '|' || cluster_code || '|' || {{ date_text('week_start') }} as duplication_id,
    area_pcode,
    admin_level,
    admin2_pcode,
    admin1_pcode,
    admin0_pcode,
    cluster_code,
    cluster_name,
    week_start,
    organisation_count,
    coalesce(organisations, {{ empty_list() }}) as organisations,
    coalesce(present_organisations, {{ empty_list() }}) as present_organisations,
    delivery_count,
    beneficiaries,
    coalesce(delivery_ids, {{ empty_list() }}) as delivery_ids,
    coalesce(presence_ids, {{ empty_list() }}) as presence_ids,
    source_event_ids,
    {{ list_size('source_event_ids') }} as source_count,
    releasability
from grouped
where organisation_count >= 2
