-- Every name an admin area is known by (official and alternative names of the pack), keyed by
-- its normalised form, in two scopes: '*' when no other area of its level has that name,
-- and its parent's p-code when no other area under that parent has it. A record names an
-- admin2 area within its admin1 when it gives one (and an admin1 within its country), so
-- a name repeated in two provinces still locates.

with

areas as (
    select
        areas.*,
        case areas.admin_level
            when 2 then areas.admin1_pcode
            when 1 then areas.admin0_pcode
        end as parent_pcode,
        coalesce(admin1.alt_names, admin2.alt_names, admin0.alt_names) as alt_names
    from {{ ref('int_admin_areas') }} as areas
    left join {{ source('pack', 'admin0') }} as admin0
        on areas.admin_level = 0 and areas.pcode = admin0.admin0_pcode
    left join {{ source('pack', 'admin1') }} as admin1
        on areas.admin_level = 1 and areas.pcode = admin1.admin1_pcode
    left join {{ source('pack', 'admin2') }} as admin2
        on areas.admin_level = 2 and areas.pcode = admin2.admin2_pcode
),

names as (
    select
        admin_level,
        pcode,
        parent_pcode,
        {{ name_key('area_name') }} as name_key
    from areas
    union
    select
        areas.admin_level,
        areas.pcode,
        areas.parent_pcode,
        {{ name_key('alt.name') }} as name_key
    from areas,
        {{ list_rows(split_text("coalesce(areas.alt_names, '')", '|')) }} as alt (name)
    where trim(alt.name) <> ''
),

counted as (
    select
        *,
        {{ count_distinct_over('pcode', 'partition by admin_level, name_key') }} as in_level,
        {{ count_distinct_over('pcode', 'partition by admin_level, parent_pcode, name_key') }} as in_parent
    from names
    where name_key is not null
)

select
    admin_level,
    '*' as scope,
    name_key,
    pcode
from counted
where in_level = 1
union all
select
    admin_level,
    parent_pcode as scope,
    name_key,
    pcode
from counted
where in_parent = 1 and parent_pcode is not null
