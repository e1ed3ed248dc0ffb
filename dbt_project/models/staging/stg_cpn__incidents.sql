{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Carana Peace Network community reports: French terms, ISO dates, sometimes coordinates.

with

source as (
    {{ events_as_of(source('eventlog', 'cpn__incidents')) }}
),

renamed as (
    select
        {{ staged_envelope() }},
        payload ->> 'date' as time_text,
        payload ->> 'type' as source_incident_type,
        payload ->> 'morts' as fatalities_text,
        payload ->> 'description' as description,
        payload ->> 'lieu' as place_name,
        payload ->> 'latitude' as raw_latitude,
        payload ->> 'longitude' as raw_longitude,
        cast(null as varchar) as mgrs_ref,
        cast(null as varchar) as admin_ref
    from source
),

staged as (
    {{ stage_incidents('renamed') }}
)

select * from staged
