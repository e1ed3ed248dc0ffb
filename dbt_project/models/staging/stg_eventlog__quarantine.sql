{{ config(materialized=view_or_table()) }}

-- Records that never became events (ingest quarantine), as known at as_of.

with

source as (
    select * from {{ source('eventlog', 'quarantine') }}
    where {{ known_at_as_of() }}
),

renamed as (
    select
        feed_id,
        split_part(feed_id, '.', 1) as agency_id,
        load_id,
        source_ref,
        raw as raw_record,
        reason,
        message,
        quarantined_at
    from source
)

select * from renamed
