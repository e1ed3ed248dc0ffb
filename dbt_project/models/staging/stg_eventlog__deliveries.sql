{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Every delivery event of every feed feeds.yaml declares with entity delivery, read through the
-- feed's contract (macro stage_feeds) and normalised (macro stage_deliveries).

with

source as {{ inlined() }} (
    {{ events_as_of(source('eventlog', 'delivery_events')) }}
),

renamed as (
    {{ stage_feeds('delivery', 'source') }}
),

staged as (
    {{ stage_deliveries('renamed') }}
)

select * from staged
