{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed({'delivery_id': 'delivery'}) }}",
        post_hook="{{ save_watermark() }}",
    )
}}

-- depends_on: {{ ref('int_events_keyed') }}
-- One row per current aid delivery (folded: corrections applied, cancellations removed),
-- normalised to IASC clusters and standard units, with lineage and releasability.

with

deliveries as (
    select * from {{ ref('int_deliveries_folded') }}
    where not is_retracted and not is_excluded
    {% if is_incremental() %}
        -- only the records changed since the last build (their old rows: see the pre-hook)
        and {{ is_changed('record_key', 'delivery') }}
    {% endif %}
)

select
    record_key as delivery_id,
    feed_id,
    agency_id,
    record_id,
    organisation_name,
    cluster_code,
    cluster_name,
    source_sector,
    quantity,
    unit,
    beneficiaries,
    occurred_at as delivered_at,
    cast(occurred_at as date) as delivered_on,
    time_precision,
    latitude,
    longitude,
    location_method,
    admin_level,
    admin0_pcode,
    admin1_pcode,
    admin2_pcode,
    event_count as source_count,
    event_ids as source_event_ids,
    correction_count,
    releasability,
    first_recorded_at,
    recorded_at as last_recorded_at
from deliveries
