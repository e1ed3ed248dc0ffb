-- Staging joins mapping seeds on name_key() (lower case, no accents, no punctuation);
-- two terms with one key would fan every matching event out into duplicate rows.
with

keys as (
    select 'map_patrol_types' as seed, {{ name_key('source_term') }} as term_key
    from {{ ref('map_patrol_types') }}
    union all
    select 'map_sectors' as seed, {{ name_key('source_term') }} as term_key
    from {{ ref('map_sectors') }}
    union all
    select 'map_units' as seed, {{ name_key('source_unit') }} as term_key
    from {{ ref('map_units') }}
    union all
    select 'map_incident_types' as seed, {{ name_key('source_term') }} as term_key
    from {{ ref('map_incident_types') }}
    union all
    select 'feeds.yaml codes of ' || feed_id || '.' || field as seed, {{ name_key('source_term') }} as term_key
    from {{ source('registry', 'code_overrides') }}
)

select
    seed,
    term_key,
    count(*) as terms
from keys
group by seed, term_key
having count(*) > 1
