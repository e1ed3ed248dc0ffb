{#- review_resolution_pairs, incrementally: the pairs of the reports changed or re-resolved
    since its last run are written again; a pair whose candidate alone was re-resolved
    keeps its cost (the report's near ties did not change) and has is_resolved_together
    looked up again. -#}
{#- The resolutions the review reads: (entity, relation, id column). -#}
{% macro review_resolutions() -%}
    {{ return([
        ('incident', 'int_incidents_resolved', 'incident_id'),
        ('delivery', 'int_deliveries_resolved', 'delivery_id'),
    ]) }}
{%- endmacro %}

{#- A row's report (`column`, of the row's `entity`) changed or was re-resolved since the
    model's watermark. -#}
{% macro is_changed_report(column) -%}
    ({% for entity, relation, id_column in review_resolutions() %}(entity = '{{ entity }}' and {{ is_changed(column, entity) }})
    {%- if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}

{#- Pre-hooks: remove the pairs of changed reports (the model appends them as they are
    now), then look up again whether each remaining pair with a changed candidate is
    resolved together. -#}
{% macro delete_changed_pairs() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ is_changed_report('record_key') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro update_changed_candidates() -%}
    {%- if is_incremental() -%}
        {%- for entity, relation, id_column in review_resolutions() %}
            update {{ this }} as pairs
            set is_resolved_together = mine.{{ id_column }} = theirs.{{ id_column }}
            from {{ ref(relation) }} as mine, {{ ref(relation) }} as theirs
            where
                pairs.entity = '{{ entity }}'
                and {{ is_changed('pairs.candidate_key', entity) }}
                and mine.record_key = pairs.record_key
                and theirs.record_key = pairs.candidate_key;
        {%- endfor %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
