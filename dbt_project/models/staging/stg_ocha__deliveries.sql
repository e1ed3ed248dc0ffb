{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Humanitarian cluster 3W/4W deliveries (HXL): day-first dates, admin p-codes, cluster names.

with

source as (
    {{ events_as_of(source('eventlog', 'ocha__deliveries')) }}
),

renamed as (
    select
        {{ staged_envelope() }},
        payload ->> '#date' as time_text,
        payload ->> '#org' as organisation_name,
        payload ->> '#sector' as source_sector,
        payload ->> '#indicator+unit' as source_unit,
        payload ->> '#indicator+value' as quantity_text,
        payload ->> '#reached' as beneficiaries_text,
        payload ->> '#loc+name' as place_name,
        payload ->> '#geo+lat' as raw_latitude,
        payload ->> '#geo+lon' as raw_longitude,
        cast(null as varchar) as mgrs_ref,
        payload ->> '#adm2+code' as admin_ref
    from source
),

staged as (
    {{ stage_deliveries('renamed') }}
)

select * from staged
