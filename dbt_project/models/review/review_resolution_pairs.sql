{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ delete_changed_pairs() }}", "{{ update_changed_candidates() }}"],
        post_hook="{{ save_watermark() }}",
    )
}}

-- depends_on: {{ ref('int_events_keyed') }}
-- For whoever tunes cross-agency resolution (docs/resolution.md): the report pairs where
-- the rule could hardly tell (a report's candidates of one side within
-- var('resolution_review_margin') of each other's cost), with what the rule decided. Not
-- published: it pairs what agencies wrote, whatever their releasability. Incremental: the
-- pairs of the reports changed or re-resolved since its last run (macros/review.sql).

with

resolved as (
    {% for entity, relation, id_column in review_resolutions() %}
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
    {% if is_incremental() %}
        and {{ is_changed_report('record_key') }}
    {% endif %}
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
