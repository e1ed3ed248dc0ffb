{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed({'patrol_id': 'patrol'}) }}",
        post_hook="{{ save_watermark() }}",
    )
}}

-- depends_on: {{ ref('int_events_keyed') }}
-- One row per current patrol (folded: corrections applied, cancellations removed), with
-- its MGRS start point converted to WGS84, lineage and releasability.

with

patrols as (
    select * from {{ ref('int_patrols_folded') }}
    where not is_retracted and not is_excluded
    {% if is_incremental() %}
        -- only the records changed since the last build (their old rows: see the pre-hook)
        and {{ is_changed('record_key', 'patrol') }}
    {% endif %}
)

select
    record_key as patrol_id,
    feed_id,
    agency_id,
    record_id,
    patrol_unit,
    patrol_type,
    source_patrol_type,
    occurred_at as started_at,
    coalesce(ended_at, occurred_at) as ended_at,
    {{ utc_date('occurred_at') }} as started_on,
    time_precision,
    mgrs_ref,
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
from patrols
