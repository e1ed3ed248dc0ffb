{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Every patrol event of every feed feeds.yaml declares with entity patrol, read through the
-- feed's contract (macro stage_feeds) and normalised (macro stage_patrols).

with

source as {{ inlined() }} (
    {{ events_as_of(source('eventlog', 'patrol_events')) }}
),

renamed as (
    {{ stage_feeds('patrol', 'source') }}
),

staged as (
    {{ stage_patrols('renamed') }}
)

select * from staged
