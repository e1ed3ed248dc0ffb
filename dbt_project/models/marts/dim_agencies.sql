-- The agencies feeds.yaml declares, with the feeds each reports through.

with

agencies as (
    select * from {{ source('registry', 'agencies') }}
),

feeds as (
    select
        agency_id,
        {{ ordered_list('feed_id', ['feed_id']) }} as feed_ids
    from {{ source('registry', 'feeds') }}
    group by agency_id
)

select
    agencies.agency_id,
    agencies.agency_name,
    agencies.agency_acronym,
    agencies.agency_kind,
    agencies.is_humanitarian,
    agencies.is_military,
    agencies.reporting_reliability,
    agencies.default_releasability,
    coalesce(feeds.feed_ids, {{ empty_list() }}) as feed_ids
from agencies
left join feeds on agencies.agency_id = feeds.agency_id
