{{ config(materialized=view_or_table()) }}

-- One row per committed load (ingest run) with its reconciled counts, as known at as_of.

with

source as (
    select * from {{ source('eventlog', 'loads') }}
    where known_at <= {{ as_of() }}
),

renamed as (
    select
        load_id,
        feed_id,
        split_part(feed_id, '.', 1) as agency_id,
        kind as load_kind,
        committed_at,
        recorded_at,
        known_at,
        records_read,
        events_appended,
        duplicates as duplicates_skipped,
        quarantined as records_quarantined,
        sources as source_files,
        retired_at
    from source
)

select * from renamed
