{{ fold_config() }}

-- The current state of every patrol record as of as_of (see macro fold_events).

{{ fold_events('patrol') }}
