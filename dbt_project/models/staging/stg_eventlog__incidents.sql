{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Every incident event of every feed feeds.yaml declares with entity incident, read through the
-- feed's contract (macro stage_feeds) and normalised (macro stage_incidents).

with

source as {{ inlined() }} (
    {{ events_as_of(source('eventlog', 'incident_events')) }}
),

renamed as (
    {{ stage_feeds('incident', 'source') }}
),

staged as (
    {{ stage_incidents('renamed') }}
)

select * from staged
