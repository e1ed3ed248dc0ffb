{{ config(materialized='table') }}

-- For the data engineer who keeps the country packs: every name a record was located by a
-- close spelling (accept it into the pack's alt_names, or refuse it in name_rejections),
-- and every area or place name no pack knows, with the pack's closest name as a
-- suggestion. Not published: it names what agencies wrote, not what happened.

with

folded as (
    {% for entity in ['incidents', 'deliveries', 'patrols', 'presence'] %}
        select
            feed_id,
            name_matches,
            issues
        from {{ ref('int_' ~ entity ~ '_folded') }}
        -- a record whose two lists are empty adds no row below: left out before unnesting
        where not is_retracted and ({{ list_size('name_matches') }} > 0 or {{ list_size('issues') }} > 0)
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

matched as (
    select
        {{ field_of('m.match', 'field') }} as field,
        {{ field_of('m.match', 'sent') }} as sent,
        {{ field_of('m.match', 'pcode') }} as pcode,
        {{ field_of('m.match', 'rule') }} as rule,
        count(*) as record_count,
        {{ ordered_list('folded.feed_id', ['folded.feed_id'], distinct=true) }} as feed_ids
    from folded,
        {{ list_rows('folded.name_matches') }} as m (match)
    group by all
),

unmatched as (
    select
        if(
            {{ field_of('i.issue', 'reason') }} = 'unknown_place_name',
            'place_name',
            {{ field_of('i.issue', 'field') }}
        ) as field,
        {{ field_of('i.issue', 'value') }} as sent,
        count(*) as record_count,
        {{ ordered_list('folded.feed_id', ['folded.feed_id'], distinct=true) }} as feed_ids
    from folded,
        {{ list_rows('folded.issues') }} as i (issue)
    where {{ field_of('i.issue', 'reason') }} in ('unknown_area_name', 'unknown_place_name')
    group by all
),

pack_names as (
    select
        'admin' || admin_level as field,
        name_key,
        pcode
    from {{ ref('int_area_names') }}
    union all
    select
        'place_name' as field,
        name_key,
        place_id as pcode
    from {{ ref('int_place_names') }}
),

suggested as (
    select
        unmatched.field,
        unmatched.sent,
        max_by(pack_names.pcode, {{ jaro_winkler('pack_names.name_key', name_key('unmatched.sent')) }})
            as pcode,
        max({{ jaro_winkler('pack_names.name_key', name_key('unmatched.sent')) }})
            as similarity
    from unmatched
    inner join pack_names on unmatched.field = pack_names.field
    group by all
),

names as (
    select
        pcode,
        any_value(area_name) as pack_name
    from {{ ref('int_admin_areas') }}
    group by pcode
    union all
    select
        place_id as pcode,
        any_value(place_name) as pack_name
    from {{ source('pack', 'places') }}
    group by place_id
)

select
    'matched' as status,
    matched.field,
    matched.sent,
    matched.pcode,
    names.pack_name,
    matched.rule,
    cast(null as double) as similarity,
    matched.record_count,
    matched.feed_ids
from matched
left join names on matched.pcode = names.pcode
union all
select
    'unmatched' as status,
    unmatched.field,
    unmatched.sent,
    suggested.pcode,
    names.pack_name,
    'suggestion' as rule,
    round(suggested.similarity, 3) as similarity,
    unmatched.record_count,
    unmatched.feed_ids
from unmatched
left join suggested on unmatched.field = suggested.field and unmatched.sent = suggested.sent
left join names on suggested.pcode = names.pcode
