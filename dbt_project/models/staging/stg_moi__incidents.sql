{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Ministry of Interior incidents: local time (Africa/Nairobi), place names only, ministry codes.

with

source as (
    {{ events_as_of(source('eventlog', 'moi__incidents')) }}
),

renamed as (
    select
        {{ staged_envelope() }},
        concat_ws(' ', payload ->> 'Date', payload ->> 'Time') as time_text,
        payload ->> 'Type' as source_incident_type,
        payload ->> 'Killed' as fatalities_text,
        payload ->> 'Description' as description,
        payload ->> 'Place' as place_name,
        cast(null as varchar) as raw_latitude,
        cast(null as varchar) as raw_longitude,
        cast(null as varchar) as mgrs_ref,
        payload ->> 'District' as admin_ref
    from source
),

staged as (
    {{ stage_incidents('renamed') }}
)

select * from staged
