-- A deconfliction pair is within the distance and the hours that define one
-- (coordination_deconfliction.sql): a row-local check, cheap enough for every build.
select
    deconfliction_id,
    distance_km,
    hours_apart
from {{ ref('coordination_deconfliction') }}
where
    distance_km > {{ var('deconfliction_km') }}
    or hours_apart > {{ var('deconfliction_hours') }}
