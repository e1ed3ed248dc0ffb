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
      location_issue   why the place could not be fully normalised, else NULL (e.g.
                       country_not_in_pack: the record names a country no pack holds)

    Order: a point inside an admin2 boundary, a grid reference inside one, a place name,
    the admin2 reference, a point inside an admin1 boundary, the admin1 reference, the
    country. Impossible or out-of-country coordinates (0,0 sent for "unknown", swapped
    axes) fall back to the next method and are listed as an issue.
-#}

{% macro name_key(text) -%}
    nullif(regexp_replace(lower(strip_accents(trim({{ text }}))), '[^a-z0-9]+', ' '{{ regex_all() }}), '')
{%- endmacro %}

{#- The columns `locate` reads: a place as sent, its names and its point. -#}
{% macro place_inputs() -%}
    {{ return(sent_names() + ['raw_latitude', 'raw_longitude', 'mgrs_ref']) }}
{%- endmacro %}

{#- The columns of a place as sent that its names are matched by (match_names). -#}
{% macro sent_names() -%}
    {{ return(['feed_id', 'place_name', 'admin0_ref', 'admin1_ref', 'admin2_ref']) }}
{%- endmacro %}

{% macro locate(relation) -%}
    {{ return(adapter.dispatch('locate')(relation)) }}
{%- endmacro %}

{#- Each distinct place as sent is located once and joined back to its events: many events
    name the same place, and the rows the location steps carry stay narrow. -#}
{% macro default__locate(relation) -%}
    {%- set inputs = place_inputs() -%}
    select
        events.*,
        places.* {{ all_but() }} ({{ inputs | join(', ') }})
    from {{ relation }} as events
    left join (
        {{ locate_places('(select distinct ' ~ inputs | join(', ') ~ ' from ' ~ relation ~ ')') }}
    ) as places
        on
            events.feed_id = places.feed_id
            {%- for column in inputs[1:] %}
            and events.{{ column }} is not distinct from places.{{ column }}
            {%- endfor %}
{%- endmacro %}

{#- Spark's optimizer fails on the staging's CTE read twice (ReplaceCTERefWithRepartition:
    "generated an invalid plan"): there every event is located as it comes. -#}
{% macro spark__locate(relation) -%}
    {{ locate_places(relation) }}
{%- endmacro %}

{#- `locate` on the rows of `relation` (place_inputs and any other columns, passed through). -#}
{% macro locate_places(relation) -%}
    select
        resolved.* {{ all_but() }} (given_lat, given_lon, grid_lat, grid_lon, place_lat, place_lon,
            place_admin2, ref_admin2, ref_admin1, ref_admin0, given_admin2, grid_admin2, given_admin1,
            has_boundary, keeps_given_point, area_admin1),
        case
            when resolved.raw_latitude is not null and resolved.given_lat is null
                then 'unreadable_coordinates'
            when resolved.admin0_ref is not null and resolved.ref_admin0 is null
                and resolved.admin_level is null
                then 'country_not_in_pack'
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
                    * {{ all_but() }} (area_admin1_candidate),
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

{#- The points (given, grid reference, place) and the areas each reference names: exactly
    (p-code, name or variant of the pack), else by a close spelling (macro close_names).
    `name_matches` lists the close spellings used, for review (review_name_matches). -#}
{% macro locate_refs(relation) -%}
    {{ return(adapter.dispatch('locate_refs')(relation)) }}
{%- endmacro %}

{#- Each distinct set of names as sent is matched once and joined back: few (1,713 sets for
    the 4.9M incident events at 10M; matching them with every distinct place cost 5 s). -#}
{% macro default__locate_refs(relation) -%}
    {%- set names = sent_names() %}
    select
        pointed.*,
        named.* {{ all_but() }} ({{ names | join(', ') }})
    from ({{ locate_points(relation) }}) as pointed
    left join ({{ match_names('(select distinct ' ~ names | join(', ') ~ ' from ' ~ relation ~ ')') }}) as named
        on
            pointed.feed_id = named.feed_id
            {%- for column in names[1:] %}
            and pointed.{{ column }} is not distinct from named.{{ column }}
            {%- endfor %}
{%- endmacro %}

{#- Spark's optimizer fails on names read apart from their rows and joined back
    (INTERNAL_ERROR_ATTRIBUTE_NOT_FOUND; see also spark__locate): there each event's names
    are matched as it comes. -#}
{% macro spark__locate_refs(relation) -%}
    {{ locate_points('(' ~ match_names(relation) ~ ')') }}
{%- endmacro %}

{#- The rows of `rows` with their points: as given, when within range, and the grid
    reference's; and the admin areas holding them (the pack's boundaries). -#}
{% macro locate_points(rows) -%}
    select
        pointed.*,
        admin2_at(pointed.given_lat, pointed.given_lon) as given_admin2,
        admin1_at(pointed.given_lat, pointed.given_lon) as given_admin1,
        admin2_at(pointed.grid_lat, pointed.grid_lon) as grid_admin2
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
            mgrs_to_lon(located.mgrs_ref) as grid_lon
        from {{ rows }} as located
    ) as pointed
{%- endmacro %}

{#- The rows of `rows` (sent_names and any other columns, passed through) with the places
    and areas their names match. -#}
{% macro match_names(rows) -%}
    with

    parsed as {{ keep_cte() }}(
        select
            sent.*,
            {{ name_key('sent.place_name') }} as place_key,
            {{ name_key('sent.admin0_ref') }} as admin0_key,
            {{ name_key('sent.admin1_ref') }} as admin1_key,
            {{ name_key('sent.admin2_ref') }} as admin2_key
        from {{ rows }} as sent
    ),

    place_exact as (
        select
            parsed.*,
            places.place_id as exact_place
        from parsed
        left join {{ ref('int_place_names') }} as places
            on parsed.place_key = places.name_key
    ),

    placed as {{ keep_cte() }}(
        select
            place_exact.* {{ all_but() }} (exact_place),
            coalesce(place_exact.exact_place, close_place.pcode) as place_id,
            close_place.rule as place_rule
        from place_exact
        left join (
            {{ close_names('place_exact', 'place_key', "'*'", 'exact_place', none) }}
        ) as close_place
            on place_exact.place_key = close_place.name_key and place_exact.exact_place is null
    ),

    with_place as (
        select
            placed.*,
            places.latitude as place_lat,
            places.longitude as place_lon,
            places.admin2_pcode as place_admin2
        from placed
        left join (
            select
                place_id,
                any_value(latitude) as latitude,
                any_value(longitude) as longitude,
                any_value(admin2_pcode) as admin2_pcode
            from {{ ref('int_place_names') }}
            group by place_id
        ) as places
            on placed.place_id = places.place_id
    ),

    with_admin0 as {{ keep_cte() }}(
        select
            with_place.*,
            coalesce(ref0_code.admin0_pcode, ref0_iso.admin0_pcode, ref0_name.pcode, feeds.country)
                as ref_admin0
        from with_place
        left join {{ source('registry', 'feeds') }} as feeds
            on with_place.feed_id = feeds.feed_id
        left join {{ source('pack', 'admin0') }} as ref0_code
            on upper(trim(with_place.admin0_ref)) = ref0_code.admin0_pcode
        left join {{ source('pack', 'admin0') }} as ref0_iso
            on upper(trim(with_place.admin0_ref)) = ref0_iso.iso3
        left join {{ ref('int_area_names') }} as ref0_name
            on
                ref0_name.admin_level = 0
                and ref0_name.scope = '*'
                and with_place.admin0_key = ref0_name.name_key
    ),

    admin1_exact as (
        select
            with_admin0.*,
            coalesce(ref1_code.admin1_pcode, ref1_in_admin2.admin1_pcode, ref1_name.pcode)
                as exact_admin1
        from with_admin0
        left join {{ source('pack', 'admin1') }} as ref1_code
            on upper(trim(with_admin0.admin1_ref)) = ref1_code.admin1_pcode
        -- an admin1 p-code sent where the admin2 was expected names the admin1
        left join {{ source('pack', 'admin1') }} as ref1_in_admin2
            on upper(trim(with_admin0.admin2_ref)) = ref1_in_admin2.admin1_pcode
        left join {{ ref('int_area_names') }} as ref1_name
            on
                ref1_name.admin_level = 1
                and ref1_name.scope = coalesce(with_admin0.ref_admin0, '*')
                and with_admin0.admin1_key = ref1_name.name_key
    ),

    with_admin1 as {{ keep_cte() }}(
        select
            admin1_exact.* {{ all_but() }} (exact_admin1),
            coalesce(admin1_exact.exact_admin1, close1.pcode) as ref_admin1,
            close1.rule as admin1_rule
        from admin1_exact
        left join (
            {{ close_names('admin1_exact', 'admin1_key', "coalesce(ref_admin0, '*')", 'exact_admin1', 1) }}
        ) as close1
            on
                admin1_exact.admin1_key = close1.name_key
                and coalesce(admin1_exact.ref_admin0, '*') = close1.scope
                and admin1_exact.exact_admin1 is null
    ),

    admin2_exact as (
        select
            with_admin1.*,
            coalesce(ref2_code.admin2_pcode, ref2_name.pcode) as exact_admin2
        from with_admin1
        left join {{ source('pack', 'admin2') }} as ref2_code
            on upper(trim(with_admin1.admin2_ref)) = ref2_code.admin2_pcode
        left join {{ ref('int_area_names') }} as ref2_name
            on
                ref2_name.admin_level = 2
                and ref2_name.scope = coalesce(with_admin1.ref_admin1, '*')
                and with_admin1.admin2_key = ref2_name.name_key
    )

    select
        admin2_exact.* {{ all_but() }} (exact_admin2, place_key, admin0_key, admin1_key, admin2_key,
            place_rule, admin1_rule),
        coalesce(admin2_exact.exact_admin2, close2.pcode) as ref_admin2,
        {{ non_null_list([
            "if(admin2_exact.place_rule is not null, " ~ struct_of([('field', "'place_name'"), ('sent', 'admin2_exact.place_name'),
                ('pcode', 'admin2_exact.place_id'), ('rule', 'admin2_exact.place_rule')]) ~ ", null)",
            "if(admin2_exact.admin1_rule is not null, " ~ struct_of([('field', "'admin1'"), ('sent', 'admin2_exact.admin1_ref'),
                ('pcode', 'admin2_exact.ref_admin1'), ('rule', 'admin2_exact.admin1_rule')]) ~ ", null)",
            "if(close2.rule is not null and admin2_exact.exact_admin2 is null, " ~ struct_of([('field', "'admin2'"),
                ('sent', 'admin2_exact.admin2_ref'), ('pcode', 'close2.pcode'), ('rule', 'close2.rule')]) ~ ", null)",
        ]) }} as name_matches,
        admin2_exact.admin1_ref is not null and admin2_exact.ref_admin1 is null
            and admin2_exact.admin1_key is not null as is_unknown_admin1,
        admin2_exact.admin2_ref is not null and coalesce(admin2_exact.exact_admin2, close2.pcode) is null
            and admin2_exact.admin2_key is not null
            and coalesce(upper(trim(admin2_exact.admin2_ref)) <> admin2_exact.ref_admin1, true)
            as is_unknown_admin2
    from admin2_exact
    left join (
        {{ close_names('admin2_exact', 'admin2_key', "coalesce(ref_admin1, '*')", 'exact_admin2', 2) }}
    ) as close2
        on
            admin2_exact.admin2_key = close2.name_key
            and coalesce(admin2_exact.ref_admin1, '*') = close2.scope
            and admin2_exact.exact_admin2 is null
{%- endmacro %}

{#- Close spellings of the names `rows` did not match exactly: for each distinct unmatched
    name (`key`) within its `scope`, the one area (place, when `level` is none) of the pack
    whose name is the same once doubled letters are single ('doubled letters': Attalaye,
    Atalaye), or one edit away and as close by Jaro-Winkler as var('name_match_threshold')
    ('one edit': Galet, Galets). Two areas that close: no match (left for review), as are
    the pairs a reviewer refused (the pack's name_rejections). -#}
{% macro close_names(rows, key, scope, exact, level) -%}
    select
        candidates.name_key,
        candidates.scope,
        any_value(candidates.pcode) as pcode,
        any_value(candidates.rule) as rule
    from (
        select
            wanted.name_key,
            wanted.scope,
            names.pcode,
            case
                when collapse_doubles(names.name_key) = collapse_doubles(wanted.name_key)
                    then 'doubled letters'
                when damerau_levenshtein(names.name_key, wanted.name_key) = 1
                    and {{ jaro_winkler('names.name_key', 'wanted.name_key') }}
                    >= {{ var('name_match_threshold') }}
                    then 'one edit'
            end as rule
        from (
            select distinct
                {{ key }} as name_key,
                {{ scope }} as scope
            from {{ rows }}
            where {{ key }} is not null and {{ exact }} is null
        ) as wanted
        inner join (
            {% if level is none -%}
                select '*' as scope, name_key, place_id as pcode from {{ ref('int_place_names') }}
            {%- else -%}
                select scope, name_key, pcode from {{ ref('int_area_names') }} where admin_level = {{ level }}
            {%- endif %}
        ) as names
            on wanted.scope = names.scope
        {% if level is not none -%}
            where not exists (
                select 1 from {{ source('pack', 'name_rejections') }} as refused
                where
                    refused.admin_level = {{ level }}
                    and refused.pcode = names.pcode
                    and {{ name_key('refused.name') }} = wanted.name_key
            )
        {%- endif %}
    ) as candidates
    where candidates.rule is not null
    group by candidates.name_key, candidates.scope
    having count(distinct candidates.pcode) = 1
{%- endmacro %}
