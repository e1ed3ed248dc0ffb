{{
    config(
        materialized=incremental_or_table(),
        unique_key='record_key',
        incremental_strategy='delete+insert',
        pre_hook="{{ delete_rekeyed_records() }}",
    )
}}

-- The current state of every incident record as of as_of (see macro fold_events).

{{ fold_events('incident') }}
