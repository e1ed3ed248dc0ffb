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
    {#- A point is used only when it lies in an admin2 area: impossible or out-of-country
        coordinates (0,0 sent for "unknown", swapped axes) fall back to the next method
        (grid reference, place name, admin area) and are listed as an issue. -#}
    select
        located.* exclude (given_lat, given_lon, grid_lat, grid_lon, place_lat, place_lon,
            place_admin2, ref_admin2, ref_admin1, given_admin2, grid_admin2),
        coalesce(located.given_admin2, located.grid_admin2, located.place_admin2, located.ref_admin2)
            as admin2_pcode,
        coalesce(admin2s.admin1_pcode, located.ref_admin1) as admin1_pcode,
        case
            when located.raw_latitude is not null and located.given_lat is null
                then 'unreadable_coordinates'
            when located.given_lat is not null and located.given_admin2 is null
                then 'point_outside_admin_areas'
            when located.mgrs_ref is not null and located.grid_lat is null
                then 'invalid_mgrs'
            when located.grid_lat is not null and located.grid_admin2 is null
                then 'point_outside_admin_areas'
            when located.location_method is null and located.place_name is not null
                then 'unknown_place_name'
            when located.location_method is null and located.ref_admin1 is null
                then 'no_location'
        end as location_issue
    from (
        select
            pointed.*,
            case
                when pointed.given_admin2 is not null then pointed.given_lat
                when pointed.grid_admin2 is not null then pointed.grid_lat
                else pointed.place_lat
            end as latitude,
            case
                when pointed.given_admin2 is not null then pointed.given_lon
                when pointed.grid_admin2 is not null then pointed.grid_lon
                else pointed.place_lon
            end as longitude,
            case
                when pointed.given_admin2 is not null then 'coordinates'
                when pointed.grid_admin2 is not null then 'mgrs'
                when pointed.place_lat is not null then 'place_name'
                when pointed.ref_admin2 is not null then 'admin_area'
            end as location_method
        from (
            select
                parsed.*,
                admin2_at(parsed.given_lat, parsed.given_lon) as given_admin2,
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
        ) as pointed
    ) as located
    left join {{ ref('gazetteer_admin2') }} as admin2s
        on coalesce(located.given_admin2, located.grid_admin2, located.place_admin2, located.ref_admin2)
        = admin2s.admin2_pcode
{%- endmacro %}
