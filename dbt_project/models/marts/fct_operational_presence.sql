{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed({'presence_id': 'presence'}) }}",
        post_hook="{{ save_watermark() }}",
    )
}}

-- depends_on: {{ ref('int_events_keyed') }}
-- Who does what where (3W operational presence): one row per current presence record
-- (folded: corrections applied, withdrawals removed), at the admin level it is located at.
-- Column names follow HDX HAPI's operational-presence table where it has one.

with

presence as (
    select
        *,
        {{ precision_end('time_precision', 'occurred_at') }} as precision_end
    from {{ ref('int_presence_folded') }}
    where not is_retracted and not is_excluded
    {% if is_incremental() %}
        -- only the records changed since the last build (their old rows: see the pre-hook)
        and {{ is_changed('record_key', 'presence') }}
    {% endif %}
),

admin0 as (
    select * from {{ source('pack', 'admin0') }}
),

admin1 as (
    select * from {{ source('pack', 'admin1') }}
),

admin2 as (
    select * from {{ source('pack', 'admin2') }}
)

select
    presence.record_key as presence_id,
    presence.feed_id,
    presence.agency_id,
    presence.record_id,
    admin0.iso3 as location_code,
    admin0.admin0_name as location_name,
    presence.admin_level,
    presence.admin0_pcode,
    presence.admin1_pcode as admin1_code,
    admin1.admin1_name,
    presence.admin2_pcode as admin2_code,
    admin2.admin2_name,
    presence.organisation_acronym as org_acronym,
    presence.organisation_name as org_name,
    presence.organisation_type as org_type_description,
    presence.cluster_code as sector_code,
    presence.cluster_name as sector_name,
    presence.source_sector,
    {{ utc_date('presence.occurred_at') }} as reference_period_start,
    -- a period the record names, else the whole period its time's precision covers
    coalesce({{ utc_date('presence.ended_at') }}, presence.precision_end) as reference_period_end,
    presence.time_precision,
    presence.latitude,
    presence.longitude,
    presence.location_method,
    presence.event_count as source_count,
    presence.event_ids as source_event_ids,
    presence.correction_count,
    presence.releasability,
    presence.first_recorded_at,
    presence.recorded_at as last_recorded_at
from presence
left join admin0 on presence.admin0_pcode = admin0.admin0_pcode
left join admin1 on presence.admin1_pcode = admin1.admin1_pcode
left join admin2 on presence.admin2_pcode = admin2.admin2_pcode
