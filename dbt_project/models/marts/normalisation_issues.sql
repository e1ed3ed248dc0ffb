{#-
    Every record that could not be fully normalised, one row per record and problem, so
    that nothing is dropped silently:
      - stage 'ingest': records that never became events (the ingest quarantine);
      - stage 'normalise': current records (folded, not retracted) with a field that could
        not be normalised; is_excluded = true when the record is therefore not in the facts.
    Incremental: a run replaces the 'normalise' rows of the records changed since the last
    build (the pre-hook deletes them) and adds quarantined records it does not hold yet
    (quarantine is append-only).
-#}

{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed({'record_key': none}) }}",
        post_hook="{{ save_watermark() }}",
    )
}}

-- depends_on: {{ ref('int_events_keyed') }}
{%- set is_changed_record = is_changed('record_key', none) if is_incremental() else none %}

with

folded as (
    {% for entity in ['incidents', 'deliveries', 'patrols', 'presence'] %}
        select
            '{{ entity }}' as entity,
            feed_id,
            agency_id,
            record_key,
            record_id,
            event_id,
            issues,
            is_excluded,
            releasability,
            recorded_at
        from {{ ref('int_' ~ entity ~ '_folded') }}
        where not is_retracted and ({{ list_size('issues') }} > 0 or is_excluded)
        {% if is_incremental() %}
            and {{ is_changed_record }}
        {% endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

normalise as (
    select
        'normalise' as stage,
        folded.entity,
        folded.feed_id,
        folded.agency_id,
        folded.record_key,
        folded.record_id,
        folded.event_id,
        {{ field_of('problem.issue', 'field') }} as field,
        {{ field_of('problem.issue', 'reason') }} as reason,
        {{ field_of('problem.issue', 'value') }} as value,
        folded.is_excluded,
        folded.releasability,
        folded.recorded_at as flagged_at
    from folded,
        {{ list_rows(
            "if(" ~ list_size('folded.issues') ~ " = 0, " ~ list_literal([struct_of([('field', "'record'"), ('reason', "'excluded'"),
                ('value', 'cast(null as ' ~ sql_type('varchar') ~ ')')])]) ~ ", folded.issues)"
        ) }} as problem (issue)
),

quarantine as (
    select
        'ingest' as stage,
        cast(null as {{ sql_type('varchar') }}) as entity,
        feed_id,
        agency_id,
        cast(null as {{ sql_type('varchar') }}) as record_key,
        cast(null as {{ sql_type('varchar') }}) as record_id,
        cast(null as {{ sql_type('varchar') }}) as event_id,
        'record' as field,
        reason,
        coalesce(message, '') || coalesce(': ' || left(raw_record, 200), '') as value,
        true as is_excluded,
        'restricted' as releasability,
        quarantined_at as flagged_at,
        source_ref as issue_source
    from {{ ref('stg_eventlog__quarantine') }}
),

issues as (
    select
        md5(concat_ws('|', stage, feed_id, issue_source, field, reason)) as issue_id,
        * {{ all_but() }} (issue_source)
    from (
        select
            *,
            event_id as issue_source
        from normalise
        union all
        -- two quarantined records may be identical; where each was read tells them apart
        select * from quarantine
    ) as issues
)

select * from issues
{% if is_incremental() %}
    where
        stage = 'normalise'
        or issue_id not in (select held.issue_id from {{ this }} as held where held.stage = 'ingest')
{% endif %}
