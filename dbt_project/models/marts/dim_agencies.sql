-- The agency registry (seed `agencies`) with the feeds each agency reports through.

with

agencies as (
    select * from {{ ref('agencies') }}
),

feeds as (
    select
        agency_id,
        list(distinct feed_id order by feed_id) as feed_ids
    from {{ ref('int_events_keyed') }}
    group by agency_id
)

select
    agencies.agency_id,
    agencies.agency_name,
    agencies.agency_kind,
    agencies.is_humanitarian,
    agencies.is_military,
    agencies.reporting_reliability,
    agencies.default_releasability,
    coalesce(feeds.feed_ids, []) as feed_ids
from agencies
left join feeds on agencies.agency_id = feeds.agency_id
