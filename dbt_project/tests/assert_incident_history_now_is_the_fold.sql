-- The versions of fct_incident_history known now are exactly the reports the fold holds now
-- (int_incidents_folded, neither retracted nor excluded): both order a report's events by
-- macro known_order. Rows returned are the differences.
with

history as (
    select history.event_id from {{ ref('fct_incident_history') }} as history
    where history.known_to is null
),

folded as (
    select folded.event_id from {{ ref('int_incidents_folded') }} as folded
    where not folded.is_retracted and not folded.is_excluded
),

only_history as (
    select history.event_id from history
    except
    select folded.event_id from folded
),

only_folded as (
    select folded.event_id from folded
    except
    select history.event_id from history
)

select
    only_history.event_id,
    'only in fct_incident_history' as difference
from only_history
union all
select
    only_folded.event_id,
    'only in int_incidents_folded' as difference
from only_folded
