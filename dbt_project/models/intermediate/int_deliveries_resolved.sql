{#-
    Cross-agency resolution of deliveries: the same distribution reported through two feeds
    (an organisation's own distribution list and the cluster's 3W) is one delivery.

    Two current delivery reports (folded, not retracted, not excluded) match when
      1. they come from different feeds,
      2. they name the same organisation (a feed of one organisation's own deliveries names
         its agency) and the same IASC cluster,
      3. they are in the same admin area (their finest: admin2, else admin1, else country),
      4. their days are at most var('delivery_window_days') (default 1) apart,
      5. their people reached agree within var('delivery_beneficiaries_tolerance') (default
         10 % of the larger) when both give a figure.
    Matching pairs are gathered into clusters by macro report_clusters (reciprocal cheapest
    partners, closest day first, then closest figure; complete link), each one delivery,
    `delivery_id` its smallest record key; one row per report here.

    Incremental, exactly, as int_incidents_resolved: a match joins reports at most the
    window apart, so a report's delivery depends only on the reports within 4R - 2
    windows of it (R = var('resolution_rounds')).
-#}
{{ resolution_config('int_deliveries_folded') }}
-- depends_on: {{ ref('int_events_keyed') }}

{%- set window = var('delivery_window_days') %}
{%- set reach_days = (4 * var('resolution_rounds') - 2) * window + 1 %}

{% call resolved('delivery_id', 'final.cluster_key', 'feed') %}
with

{{ current_reports(ref('int_deliveries_folded'), reach_days) }}

reports as (
    select
        record_key,
        {{ report_number() }} as report_number,
        feed_id,
        occurred_at,
        {{ name_key('organisation_name') }} as organisation_key,
        cluster_code,
        coalesce(admin2_pcode, admin1_pcode, admin0_pcode) as area_pcode,
        {{ utc_date('occurred_at') }} as delivered_on,
        beneficiaries
    from current_reports
    {{ on_input_days() }}
),

near_days as (
    -- each report with every day a match can be on: the join below is on equal days,
    -- so it never compares an organisation's deliveries far apart in time
    select
        reports.*,
        reports.delivered_on + day_offsets.day_offset as near_on
    from reports
    cross join (values {% for offset in range(-window, window + 1) %}({{ offset }}){{ ", " if not loop.last }}{% endfor %}) as day_offsets (day_offset)
),

candidates as (
    select
        a.report_number as report_a,
        b.report_number as report_b,
        a.feed_id as feed_a,
        b.feed_id as feed_b,
        -- days apart, then the figures' relative difference (below 1): the closest day first
        abs({{ days_between('b.delivered_on', 'a.delivered_on') }})
        + coalesce(abs(a.beneficiaries - b.beneficiaries) / nullif(greatest(a.beneficiaries, b.beneficiaries), 0), 0)
            as cost
    from near_days as a
    inner join reports as b
        on
            a.organisation_key = b.organisation_key
            and a.cluster_code = b.cluster_code
            and a.area_pcode = b.area_pcode
            and a.near_on = b.delivered_on
            and a.feed_id < b.feed_id
    where
        a.beneficiaries is null or b.beneficiaries is null
        or abs(a.beneficiaries - b.beneficiaries)
        <= {{ var('delivery_beneficiaries_tolerance') }} * greatest(a.beneficiaries, b.beneficiaries)
),

{% endcall %}
