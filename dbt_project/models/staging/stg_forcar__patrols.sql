{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- FORCAR patrol logs: French, military DTG times, MGRS grid references.

with

source as (
    {{ events_as_of(source('eventlog', 'forcar__patrols')) }}
),

renamed as (
    select
        {{ staged_envelope() }},
        payload ->> 'gdh_depart' as time_text,
        payload ->> 'gdh_retour' as end_text,
        {{ dtg_to_utc("payload ->> 'gdh_retour'") }} as ended_at,
        payload ->> 'unite' as patrol_unit,
        payload ->> 'type_patrouille' as source_patrol_type,
        payload ->> 'mgrs' as mgrs_ref,
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
