{{ fold_config() }}

-- The current state of every incident record as of as_of (see macro fold_events).

{{ fold_events('incident') }}
