{#-
    Place normalisation (DESIGN.md, "The common vocabulary"): WGS84 latitude/longitude
    plus the admin areas of the country packs, at the finest level the record supports.

    `locate(relation)` reads these columns of `relation` (text as sent, any may be NULL):
      feed_id                       for the feed's declared country (registry.feeds)
      raw_latitude, raw_longitude   decimal degrees
      mgrs_ref                      military grid reference (converted by the mgrs_to_* UDFs)
      place_name                    matched to the packs' place names (accents, case and
                                    punctuation ignored; alternative names included)
      admin2_ref, admin1_ref,       an area's p-code or name (names and variants from the
      admin0_ref                    pack; an admin2 name within its admin1 when one is known)
    and adds:
      admin_level      2, 1 or 0: the finest level found (NULL: not located at all)
      admin2_pcode, admin1_pcode, admin0_pcode   the area and the areas above it
      latitude, longitude   the point: as sent when it lies in a pack boundary (or, for
                            areas without boundaries, as sent unchecked), the grid
                            reference's, or the matched place's
      location_method  coordinates | mgrs | place_name | admin_area
      location_issue   why the place could not be fully normalised, else NULL

    Order: a point inside an admin2 boundary, a grid reference inside one, a place name,
    the admin2 reference, a point inside an admin1 boundary, the admin1 reference, the
    country. Impossible or out-of-country coordinates (0,0 sent for "unknown", swapped
    axes) fall back to the next method and are listed as an issue.
-#}

{% macro name_key(text) -%}
    nullif(regexp_replace(lower(strip_accents(trim({{ text }}))), '[^a-z0-9]+', ' ', 'g'), '')
{%- endmacro %}

{% macro locate(relation) -%}
    select
        resolved.* exclude (given_lat, given_lon, grid_lat, grid_lon, place_lat, place_lon,
            place_admin2, ref_admin2, ref_admin1, ref_admin0, given_admin2, grid_admin2, given_admin1,
            has_boundary, keeps_given_point, area_admin1),
        case
            when resolved.raw_latitude is not null and resolved.given_lat is null
                then 'unreadable_coordinates'
            when resolved.given_lat is not null and resolved.given_admin2 is null
                and resolved.given_admin1 is null and not resolved.keeps_given_point
                then 'point_outside_admin_areas'
            when resolved.mgrs_ref is not null and resolved.grid_lat is null
                then 'invalid_mgrs'
            when resolved.grid_lat is not null and resolved.grid_admin2 is null
                then 'point_outside_admin_areas'
            when resolved.admin2_pcode is null and resolved.place_name is not null
                then 'unknown_place_name'
            when resolved.admin_level is null
                then 'no_location'
        end as location_issue
    from (
        select
            leveled.*,
            -- a point no boundary can check is kept as sent when its area has none
            leveled.given_lat is not null and leveled.given_admin2 is null
            and leveled.given_admin1 is null and not coalesce(leveled.has_boundary, true)
                as keeps_given_point,
            case
                when leveled.given_admin2 is not null then leveled.given_lat
                when leveled.grid_admin2 is not null then leveled.grid_lat
                when leveled.place_admin2 is not null then leveled.place_lat
                when leveled.admin2_pcode is null and leveled.given_admin1 is not null then leveled.given_lat
                when leveled.given_lat is not null and not coalesce(leveled.has_boundary, true)
                    then leveled.given_lat
            end as latitude,
            case
                when leveled.given_admin2 is not null then leveled.given_lon
                when leveled.grid_admin2 is not null then leveled.grid_lon
                when leveled.place_admin2 is not null then leveled.place_lon
                when leveled.admin2_pcode is null and leveled.given_admin1 is not null then leveled.given_lon
                when leveled.given_lat is not null and not coalesce(leveled.has_boundary, true)
                    then leveled.given_lon
            end as longitude
        from (
            select
                areas.*,
                coalesce(a2.admin1_pcode, areas.area_admin1) as admin1_pcode,
                coalesce(a2_parent.admin0_pcode, a1.admin0_pcode, areas.ref_admin0) as admin0_pcode,
                case
                    when areas.admin2_pcode is not null then 2
                    when areas.area_admin1 is not null then 1
                    when areas.ref_admin0 is not null then 0
                end as admin_level,
                case
                    when areas.given_admin2 is not null then 'coordinates'
                    when areas.grid_admin2 is not null then 'mgrs'
                    when areas.place_admin2 is not null then 'place_name'
                    when areas.ref_admin2 is not null then 'admin_area'
                    when areas.given_admin1 is not null then 'coordinates'
                    when areas.ref_admin1 is not null or areas.ref_admin0 is not null then 'admin_area'
                end as location_method,
                coalesce(area_found.has_boundary, area1_found.has_boundary, area0_found.has_boundary)
                    as has_boundary
            from (
                select
                    * exclude (area_admin1_candidate),
                    coalesce(given_admin2, grid_admin2, place_admin2, ref_admin2) as admin2_pcode,
                    area_admin1_candidate as area_admin1
                from (
                    select
                        *,
                        coalesce(given_admin1, ref_admin1) as area_admin1_candidate
                    from ({{ locate_refs(relation) }})
                )
            ) as areas
            left join {{ source('pack', 'admin2') }} as a2
                on areas.admin2_pcode = a2.admin2_pcode
            left join {{ source('pack', 'admin1') }} as a2_parent
                on a2.admin1_pcode = a2_parent.admin1_pcode
            left join {{ source('pack', 'admin1') }} as a1
                on areas.area_admin1 = a1.admin1_pcode
            left join {{ ref('int_admin_areas') }} as area_found
                on areas.admin2_pcode = area_found.pcode and area_found.admin_level = 2
            left join {{ ref('int_admin_areas') }} as area1_found
                on areas.area_admin1 = area1_found.pcode and area1_found.admin_level = 1
            left join {{ ref('int_admin_areas') }} as area0_found
                on areas.ref_admin0 = area0_found.pcode and area0_found.admin_level = 0
        ) as leveled
    ) as resolved
{%- endmacro %}

{#- The points (given, grid reference, place) and the areas each reference names. -#}
{% macro locate_refs(relation) -%}
    select
        with_admin1.*,
        coalesce(ref2_code.admin2_pcode, ref2_name.pcode) as ref_admin2
    from (
        select
            with_admin0.*,
            coalesce(ref1_code.admin1_pcode, ref1_in_admin2.admin1_pcode, ref1_name.pcode) as ref_admin1
        from (
            select
                pointed.*,
                coalesce(ref0_code.admin0_pcode, ref0_iso.admin0_pcode, ref0_name.pcode, feeds.country)
                    as ref_admin0
            from (
                select
                    parsed.*,
                    admin2_at(parsed.given_lat, parsed.given_lon) as given_admin2,
                    admin1_at(parsed.given_lat, parsed.given_lon) as given_admin1,
                    admin2_at(parsed.grid_lat, parsed.grid_lon) as grid_admin2
                from (
                    select
                        located.*,
                        if(abs(try_cast(located.raw_latitude as double)) <= 90
                            and abs(try_cast(located.raw_longitude as double)) <= 180,
                            try_cast(located.raw_latitude as double), null) as given_lat,
                        if(abs(try_cast(located.raw_latitude as double)) <= 90
                            and abs(try_cast(located.raw_longitude as double)) <= 180,
                            try_cast(located.raw_longitude as double), null) as given_lon,
                        mgrs_to_lat(located.mgrs_ref) as grid_lat,
                        mgrs_to_lon(located.mgrs_ref) as grid_lon,
                        places.latitude as place_lat,
                        places.longitude as place_lon,
                        places.admin2_pcode as place_admin2
                    from {{ relation }} as located
                    left join {{ ref('int_place_names') }} as places
                        on {{ name_key('located.place_name') }} = places.name_key
                ) as parsed
            ) as pointed
            left join {{ source('registry', 'feeds') }} as feeds
                on pointed.feed_id = feeds.feed_id
            left join {{ source('pack', 'admin0') }} as ref0_code
                on upper(trim(pointed.admin0_ref)) = ref0_code.admin0_pcode
            left join {{ source('pack', 'admin0') }} as ref0_iso
                on upper(trim(pointed.admin0_ref)) = ref0_iso.iso3
            left join {{ ref('int_area_names') }} as ref0_name
                on
                    ref0_name.admin_level = 0
                    and ref0_name.scope = '*'
                    and {{ name_key('pointed.admin0_ref') }} = ref0_name.name_key
        ) as with_admin0
        left join {{ source('pack', 'admin1') }} as ref1_code
            on upper(trim(with_admin0.admin1_ref)) = ref1_code.admin1_pcode
        -- an admin1 p-code sent where the admin2 was expected names the admin1
        left join {{ source('pack', 'admin1') }} as ref1_in_admin2
            on upper(trim(with_admin0.admin2_ref)) = ref1_in_admin2.admin1_pcode
        left join {{ ref('int_area_names') }} as ref1_name
            on
                ref1_name.admin_level = 1
                and ref1_name.scope = coalesce(with_admin0.ref_admin0, '*')
                and {{ name_key('with_admin0.admin1_ref') }} = ref1_name.name_key
    ) as with_admin1
    left join {{ source('pack', 'admin2') }} as ref2_code
        on upper(trim(with_admin1.admin2_ref)) = ref2_code.admin2_pcode
    left join {{ ref('int_area_names') }} as ref2_name
        on
            ref2_name.admin_level = 2
            and ref2_name.scope = coalesce(with_admin1.ref_admin1, '*')
            and {{ name_key('with_admin1.admin2_ref') }} = ref2_name.name_key
{%- endmacro %}
