-- Every admin area of the country packs at its level, with the areas above it and whether
-- a boundary covers it (its own, its parent's or a child's): where none does, a record's
-- point cannot be checked against its area and is kept as sent.

with

admin0 as (
    select * from {{ source('pack', 'admin0') }}
),

admin1 as (
    select * from {{ source('pack', 'admin1') }}
),

admin2 as (
    select * from {{ source('pack', 'admin2') }}
),

admin2_areas as (
    select
        2 as admin_level,
        admin2.admin2_pcode as pcode,
        admin2.admin2_name as area_name,
        admin2.admin2_pcode,
        admin2.admin1_pcode,
        admin1.admin0_pcode,
        admin2.wkt is not null or admin1.wkt is not null as has_boundary
    from admin2
    inner join admin1 on admin2.admin1_pcode = admin1.admin1_pcode
),

admin1_children as (
    select
        admin1_pcode,
        bool_or(has_boundary) as has_boundary
    from admin2_areas
    group by admin1_pcode
),

admin1_areas as (
    select
        1 as admin_level,
        admin1.admin1_pcode as pcode,
        admin1.admin1_name as area_name,
        cast(null as {{ sql_type('varchar') }}) as admin2_pcode,
        admin1.admin1_pcode,
        admin1.admin0_pcode,
        admin1.wkt is not null or coalesce(admin1_children.has_boundary, false) as has_boundary
    from admin1
    left join admin1_children on admin1.admin1_pcode = admin1_children.admin1_pcode
),

admin0_children as (
    select
        admin0_pcode,
        bool_or(has_boundary) as has_boundary
    from admin1_areas
    group by admin0_pcode
),

admin0_areas as (
    select
        0 as admin_level,
        admin0.admin0_pcode as pcode,
        admin0.admin0_name as area_name,
        cast(null as {{ sql_type('varchar') }}) as admin2_pcode,
        cast(null as {{ sql_type('varchar') }}) as admin1_pcode,
        admin0.admin0_pcode,
        coalesce(admin0_children.has_boundary, false) as has_boundary
    from admin0
    left join admin0_children on admin0.admin0_pcode = admin0_children.admin0_pcode
)

select * from admin2_areas
union all
select * from admin1_areas
union all
select * from admin0_areas
