{{ config(materialized='table') }}

-- For whoever tunes cross-agency resolution (docs/resolution.md): the report pairs where
-- the rule could hardly tell (a report's candidates of one side within
-- var('resolution_review_margin') of each other's cost), with what the rule decided. Not
-- published: it pairs what agencies wrote, whatever their releasability.

with

resolved as (
    {% for entity, relation, id_column in [
        ('incident', 'int_incidents_resolved', 'incident_id'),
        ('delivery', 'int_deliveries_resolved', 'delivery_id'),
    ] %}
        select
            '{{ entity }}' as entity,
            record_key,
            {{ id_column }} as resolved_id,
            near_ties
        from {{ ref(relation) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

near_ties as (
    select
        entity,
        record_key,
        resolved_id,
        {{ list_fields('near_ties', ['candidate_key', 'cost']) }}
    from resolved
    where {{ list_size('near_ties') }} > 0
)

select
    near_ties.entity,
    near_ties.record_key,
    near_ties.candidate_key,
    near_ties.cost,
    near_ties.resolved_id = candidate.resolved_id as is_resolved_together
from near_ties
inner join resolved as candidate
    on near_ties.entity = candidate.entity and near_ties.candidate_key = candidate.record_key
