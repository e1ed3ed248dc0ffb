-- Every name a country pack's place is known by (official and alternative, '|'-separated in
-- the pack), keyed by its normalised form; a name shared by several places is ambiguous and
-- left out.

with

places as (
    select * from {{ source('pack', 'places') }}
),

names as (
    select
        place_id,
        place_name as name,
        latitude,
        longitude,
        admin2_pcode
    from places
    union all
    select
        places.place_id,
        trim(alt.name) as name,
        places.latitude,
        places.longitude,
        places.admin2_pcode
    from places,
        {{ list_rows(split_text("coalesce(places.alt_names, '')", '|')) }} as alt (name)
    where trim(alt.name) <> ''
),

keyed as (
    select
        {{ name_key('name') }} as name_key,
        place_id,
        latitude,
        longitude,
        admin2_pcode
    from names
)

select
    name_key,
    any_value(place_id) as place_id,
    any_value(latitude) as latitude,
    any_value(longitude) as longitude,
    any_value(admin2_pcode) as admin2_pcode
from keyed
where name_key is not null
group by name_key
having count(distinct place_id) = 1
