{{
    config(
        unique_key='event_id',
        incremental_strategy='delete+insert',
    )
}}

-- Food Assistance Programme distributions (XLSX): ISO dates, site names, commodity units.

with

source as (
    {{ events_as_of(source('eventlog', 'fap__distributions')) }}
),

renamed as (
    select
        {{ staged_envelope() }},
        payload ->> 'Distribution / Date' as time_text,
        'FAP' as organisation_name,
        payload ->> 'Distribution / Modality' as source_sector,
        payload ->> 'Commodity / Unit' as source_unit,
        payload ->> 'Commodity / Quantity' as quantity_text,
        payload ->> 'Beneficiaries / Total' as beneficiaries_text,
        payload ->> 'Location / Site' as place_name,
        cast(null as varchar) as raw_latitude,
        cast(null as varchar) as raw_longitude,
        cast(null as varchar) as mgrs_ref,
        payload ->> 'Location / District' as admin_ref
    from source
),

staged as (
    {{ stage_deliveries('renamed') }}
)

select * from staged
