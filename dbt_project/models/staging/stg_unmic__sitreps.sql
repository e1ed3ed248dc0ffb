{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- UNMIC situation reports: ISO times, decimal coordinates, mission incident codes.

with

source as (
    {{ events_as_of(source('eventlog', 'unmic__sitreps')) }}
),

renamed as (
    select
        {{ staged_envelope() }},
        payload ->> 'occurred_at' as time_text,
        payload ->> 'incident_type' as source_incident_type,
        payload ->> 'fatalities' as fatalities_text,
        payload ->> 'summary' as description,
        payload ->> 'location' as place_name,
        payload ->> 'lat' as raw_latitude,
        payload ->> 'lon' as raw_longitude,
        cast(null as varchar) as mgrs_ref,
        payload ->> 'admin2' as admin_ref
    from source
),

staged as (
    {{ stage_incidents('renamed') }}
)

select * from staged
