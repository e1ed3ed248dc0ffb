{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Every presence event of every feed feeds.yaml declares with entity presence, read through the
-- feed's contract (macro stage_feeds) and normalised (macro stage_presence).

with

source as {{ inlined() }} (
    {{ events_as_of(source('eventlog', 'presence_events')) }}
),

renamed as (
    {{ stage_feeds('presence', 'source') }}
),

staged as (
    {{ stage_presence('renamed') }}
)

select * from staged
