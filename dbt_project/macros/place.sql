{#-
    Place normalisation (DESIGN.md, "The common vocabulary"): WGS84 latitude/longitude
    plus admin1/admin2 p-codes from the gazetteer seeds.

    `locate(relation)` reads these columns of `relation` (text as sent, any may be NULL):
      raw_latitude, raw_longitude   decimal degrees
      mgrs_ref                      military grid reference (converted by the mgrs_to_* UDFs)
      place_name                    matched to the gazetteer's place names (accents, case and
                                    spacing ignored; alternative names included)
      admin_ref                     an admin2 or admin1 p-code, or an admin2 name
    and adds: latitude, longitude, location_method (coordinates | mgrs | place_name | admin_area),
    admin2_pcode (point-in-polygon for points, shapely UDF admin2_at), admin1_pcode,
    location_issue (reason the place could not be normalised, else NULL).
-#}

{% macro name_key(text) -%}
    nullif(regexp_replace(lower(strip_accents(trim({{ text }}))), '[^a-z0-9]+', ' ', 'g'), '')
{%- endmacro %}

{% macro locate(relation) -%}
    select
        pointed.* exclude (given_lat, given_lon, grid_lat, grid_lon, place_lat, place_lon,
            place_admin2, ref_admin2, ref_admin1, point_admin2),
        coalesce(pointed.point_admin2, pointed.place_admin2, pointed.ref_admin2) as admin2_pcode,
        coalesce(admin2s.admin1_pcode, pointed.ref_admin1) as admin1_pcode,
        case
            when pointed.location_method is null and pointed.raw_latitude is not null
                then 'unreadable_coordinates'
            when pointed.location_method is null and pointed.mgrs_ref is not null
                then 'invalid_mgrs'
            when pointed.location_method is null and pointed.place_name is not null
                then 'unknown_place_name'
            when pointed.location_method is null and pointed.ref_admin1 is null
                then 'no_location'
            when pointed.latitude is not null and pointed.point_admin2 is null
                then 'point_outside_admin_areas'
        end as location_issue
    from (
        select
            matched.*,
            admin2_at(matched.latitude, matched.longitude) as point_admin2
        from (
            select
                parsed.*,
                coalesce(parsed.given_lat, parsed.grid_lat, parsed.place_lat) as latitude,
                coalesce(parsed.given_lon, parsed.grid_lon, parsed.place_lon) as longitude,
                case
                    when parsed.given_lat is not null then 'coordinates'
                    when parsed.grid_lat is not null then 'mgrs'
                    when parsed.place_lat is not null then 'place_name'
                    when parsed.ref_admin2 is not null then 'admin_area'
                end as location_method
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
                    places.admin2_pcode as place_admin2,
                    coalesce(ref_codes.admin2_pcode, ref_names.admin2_pcode) as ref_admin2,
                    coalesce(ref_codes.admin1_pcode, ref_names.admin1_pcode, ref_a1.admin1_pcode)
                        as ref_admin1
                from {{ relation }} as located
                left join {{ ref('int_place_names') }} as places
                    on {{ name_key('located.place_name') }} = places.name_key
                left join {{ ref('gazetteer_admin2') }} as ref_codes
                    on upper(trim(located.admin_ref)) = ref_codes.admin2_pcode
                left join {{ ref('int_admin2_names') }} as ref_names
                    on {{ name_key('located.admin_ref') }} = ref_names.name_key
                left join {{ ref('gazetteer_admin1') }} as ref_a1
                    on upper(trim(located.admin_ref)) = ref_a1.admin1_pcode
            ) as parsed
        ) as matched
    ) as pointed
    left join {{ ref('gazetteer_admin2') }} as admin2s
        on coalesce(pointed.point_admin2, pointed.place_admin2, pointed.ref_admin2)
        = admin2s.admin2_pcode
{%- endmacro %}
