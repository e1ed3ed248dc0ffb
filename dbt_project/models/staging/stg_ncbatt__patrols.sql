{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Northern Contingent Battalion patrol logs: JSON lines, DTG times, MGRS grid references.

with

source as (
    {{ events_as_of(source('eventlog', 'ncbatt__patrols')) }}
),

renamed as (
    select
        {{ staged_envelope() }},
        payload ->> 'start_dtg' as time_text,
        payload ->> 'end_dtg' as end_text,
        {{ dtg_to_utc("payload ->> 'end_dtg'") }} as ended_at,
        payload ->> 'unit' as patrol_unit,
        payload ->> 'task' as source_patrol_type,
        payload ->> 'grid' as mgrs_ref,
        cast(null as varchar) as place_name,
        cast(null as varchar) as raw_latitude,
        cast(null as varchar) as raw_longitude,
        cast(null as varchar) as admin_ref
    from source
),

staged as (
    {{ stage_patrols('renamed') }}
)

select * from staged
