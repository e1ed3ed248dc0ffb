{#-
    The normalisation shared by the feeds of one entity. A staging model renames every
    feed's fields to the common input columns (macro stage_feeds, from each feed's
    contract), then calls one of these macros, which locate the place, map the codes
    (the feed's own terms from feeds.yaml, else the shared seed, else the term itself when
    it already is a code of the vocabulary) and list the normalisation issues of each event:
      issues       list of {field, reason, value}: why a field could not be normalised
      is_excluded  true when the record cannot enter the facts (no place at all, an
                   unmapped type or sector, a time before the mission started); it is
                   then listed in normalisation_issues
-#}

{#- issues([(condition, field, reason_sql, value_sql), ...]): the list of issue structs whose
    condition holds. -#}
{% macro issues(items) -%}
    {{ return(adapter.dispatch('issues')(items)) }}
{%- endmacro %}

{% macro spark__issues(items) -%}
    {%- set listed = [] -%}
    {%- for c, f, r, v in items -%}
        {%- do listed.append('if(coalesce(' ~ c ~ ', false), ' ~ struct_of([('field', "'" ~ f ~ "'"), ('reason', r),
            ('value', 'cast(' ~ v ~ ' as string)')]) ~ ', null)') -%}
    {%- endfor -%}
    {{ non_null_list(listed) }}
{%- endmacro %}

{% macro default__issues(items) -%}
    list_where(
        [{% for c, f, r, v in items %}{'field': '{{ f }}', 'reason': {{ r }}, 'value': cast({{ v }} as varchar)}{% if not loop.last %}, {% endif %}{% endfor %}],
        [{% for c, f, r, v in items %}coalesce({{ c }}, false){% if not loop.last %}, {% endif %}{% endfor %}]
    )
{%- endmacro %}

{#- The mission's first day (var mission_start, from feeds.yaml): earlier records are excluded. -#}
{% macro mission_start() -%}
    cast('{{ var("mission_start") }}' as {{ sql_type('timestamptz') }})
{%- endmacro %}

{#- The issues every entity shares: the place and the time. -#}
{% macro place_and_time_issues() -%}
    {{ return([
        ('located.location_issue is not null', 'location', 'located.location_issue',
            "coalesce(located.mgrs_ref, located.place_name, located.raw_latitude || ',' || located.raw_longitude, located.admin2_ref, located.admin1_ref, located.admin0_ref)"),
        ('located.occurred_at < ' ~ mission_start(), 'occurred_at', "'before_mission_start'", 'located.time_text'),
        ('located.is_unknown_admin1', 'admin1', "'unknown_area_name'", 'located.admin1_ref'),
        ('located.is_unknown_admin2', 'admin2', "'unknown_area_name'", 'located.admin2_ref'),
    ]) }}
{%- endmacro %}

{#- Excluded from the facts: no place at all, or a time before the mission started. -#}
{% macro place_and_time_excluded() -%}
    located.admin_level is null or located.occurred_at < {{ mission_start() }}
{%- endmacro %}

{#- The located columns every staged entity carries. -#}
{% macro located_columns() -%}
        located.latitude,
        located.longitude,
        located.location_method,
        located.admin_level,
        located.admin0_pcode,
        located.admin1_pcode,
        located.admin2_pcode,
        located.name_matches
{%- endmacro %}

{#- Joins for a coded field: `<alias>_own` (the feed's own term, feeds.yaml `codes`) and, when
    a shared seed maps terms, `<alias>_shared` (its row for the term). `key` is the term's
    name_key. `<alias>_own.code_key` is the name_key of the feed's code, and, with
    `seed_code`, `<alias>_shared.code_key` that of the seed's column `seed_code`: computed
    once per row of the small tables, where a join on them would compute them once per event
    (the incident types' took 2-3 s of their staging at 10M events). -#}
{% macro code_joins(alias, field, key, seed=none, seed_term='source_term', seed_code=none) -%}
    left join (
        select
            overrides.*,
            {{ name_key('overrides.code') }} as code_key
        from {{ source('registry', 'code_overrides') }} as overrides
    ) as {{ alias }}_own
        on
            located.feed_id = {{ alias }}_own.feed_id
            and {{ alias }}_own.field = '{{ field }}'
            and {{ key }} = {{ name_key(alias ~ '_own.source_term') }}
    {%- if seed %}
    left join (
        select
            {%- if seed_code %}
            {{ name_key('seeded.' ~ seed_code) }} as code_key,
            {%- endif %}
            seeded.*
        from {{ ref(seed) }} as seeded
    ) as {{ alias }}_shared
        on {{ key }} = {{ name_key(alias ~ '_shared.' ~ seed_term) }}
    {%- endif %}
{%- endmacro %}

{#- The IASC clusters the sector terms map to. -#}
{% macro clusters() -%}
    {{ ref('iasc_clusters') }}
{%- endmacro %}

{% macro stage_incidents(renamed) -%}
    select
        {% for c in envelope_columns() %}located.{{ c }},
        {% endfor %}
        located.time_precision,
        located.source_incident_type,
        types.incident_type,
        types.incident_sub_type,
        try_cast(located.fatalities_text as integer) as fatalities,
        located.description,
        located.place_name,
        {{ located_columns() }},
        {{ issues(place_and_time_issues() + [
            ('types.incident_type is null', 'incident_type',
                "if(located.source_incident_type is null, 'missing_code', 'unmapped_code')", 'located.source_incident_type'),
            ('located.fatalities_text is not null and try_cast(located.fatalities_text as integer) is null',
                'fatalities', "'unreadable_number'", 'located.fatalities_text')
        ]) }} as issues,
        {{ place_and_time_excluded() }} or types.incident_type is null as is_excluded
    from (
        select
            located.*,
            {{ name_key('located.source_incident_type') }} as type_key
        from ({{ locate(renamed) }}) as located
    ) as located
    {{ code_joins('type', 'incident_type', 'located.type_key', 'map_incident_types', seed_code='incident_sub_type') }}
    left join {{ ref('acled_event_types') }} as types
        on {{ name_key('types.incident_sub_type') }}
        = coalesce(type_own.code_key, type_shared.code_key, located.type_key)
{%- endmacro %}

{#- A sector term to its cluster: the feed's own term, the shared term, or the cluster's code
    or name itself. -#}
{% macro sector_code(alias='sector') -%}
    coalesce({{ alias }}_own.code, {{ alias }}_shared.cluster_code, {{ alias }}_named.cluster_code,
        upper(trim(located.source_sector)))
{%- endmacro %}

{% macro stage_deliveries(renamed) -%}
    select
        {% for c in envelope_columns() %}located.{{ c }},
        {% endfor %}
        located.time_precision,
        located.ended_at,
        located.organisation_name,
        located.organisation_acronym,
        located.source_sector,
        sectors.cluster_code,
        sectors.cluster_name,
        located.source_unit,
        units.unit,
        try_cast(replace(located.quantity_text, ',', '') as double) * units.factor as quantity,
        try_cast(replace(located.beneficiaries_text, ',', '') as integer) as beneficiaries,
        located.description,
        located.place_name,
        {{ located_columns() }},
        {{ issues(place_and_time_issues() + [
            ('sectors.cluster_code is null', 'sector',
                "if(located.source_sector is null, 'missing_code', 'unmapped_code')", 'located.source_sector'),
            ('located.source_unit is not null and units.unit is null', 'unit', "'unmapped_code'", 'located.source_unit'),
            ("located.quantity_text is not null and try_cast(replace(located.quantity_text, ',', '') as double) is null",
                'quantity', "'unreadable_number'", 'located.quantity_text'),
            ("located.beneficiaries_text is not null and try_cast(replace(located.beneficiaries_text, ',', '') as integer) is null",
                'beneficiaries', "'unreadable_number'", 'located.beneficiaries_text'),
            ('located.end_text is not null and located.ended_at is null', 'ended_at',
                "'unreadable_time'", 'located.end_text')
        ]) }} as issues,
        {{ place_and_time_excluded() }} or sectors.cluster_code is null as is_excluded
    from (
        select
            located.*,
            {{ name_key('located.source_sector') }} as sector_key,
            {{ name_key('located.source_unit') }} as unit_key
        from ({{ locate(renamed) }}) as located
    ) as located
    {{ code_joins('sector', 'sector', 'located.sector_key', 'map_sectors') }}
    left join {{ clusters() }} as sector_named
        on located.sector_key = {{ name_key('sector_named.cluster_name') }}
    left join {{ clusters() }} as sectors
        on {{ sector_code() }} = sectors.cluster_code
    {{ code_joins('unit', 'unit', 'located.unit_key') }}
    left join {{ ref('map_units') }} as units
        on coalesce(unit_own.code_key, located.unit_key) = {{ name_key('units.source_unit') }}
{%- endmacro %}

{% macro stage_patrols(renamed) -%}
    select
        {% for c in envelope_columns() %}located.{{ c }},
        {% endfor %}
        located.time_precision,
        located.ended_at,
        located.patrol_unit,
        located.source_patrol_type,
        coalesce(kind_own.code, kind_shared.patrol_type) as patrol_type,
        located.description,
        located.mgrs_ref,
        {{ located_columns() }},
        {{ issues(place_and_time_issues() + [
            ('located.source_patrol_type is not null and coalesce(kind_own.code, kind_shared.patrol_type) is null',
                'patrol_type', "'unmapped_code'", 'located.source_patrol_type'),
            ('located.end_text is not null and located.ended_at is null', 'ended_at',
                "'unreadable_time'", 'located.end_text')
        ]) }} as issues,
        {{ place_and_time_excluded() }} as is_excluded
    from (
        select
            located.*,
            {{ name_key('located.source_patrol_type') }} as kind_key
        from ({{ locate(renamed) }}) as located
    ) as located
    {{ code_joins('kind', 'patrol_type', 'located.kind_key', 'map_patrol_types') }}
{%- endmacro %}

{% macro stage_presence(renamed) -%}
    select
        {% for c in envelope_columns() %}located.{{ c }},
        {% endfor %}
        located.time_precision,
        located.ended_at,
        located.organisation_name,
        located.organisation_acronym,
        located.organisation_type,
        located.source_sector,
        sectors.cluster_code,
        sectors.cluster_name,
        located.place_name,
        {{ located_columns() }},
        {{ issues(place_and_time_issues() + [
            ('sectors.cluster_code is null', 'sector',
                "if(located.source_sector is null, 'missing_code', 'unmapped_code')", 'located.source_sector'),
            ('located.organisation_name is null', 'organisation', "'missing_value'", 'located.organisation_name'),
            ('located.end_text is not null and located.ended_at is null', 'ended_at',
                "'unreadable_time'", 'located.end_text')
        ]) }} as issues,
        {{ place_and_time_excluded() }} or sectors.cluster_code is null or located.organisation_name is null
            as is_excluded
    from (
        select
            located.*,
            {{ name_key('located.source_sector') }} as sector_key
        from ({{ locate(renamed) }}) as located
    ) as located
    {{ code_joins('sector', 'sector', 'located.sector_key', 'map_sectors') }}
    left join {{ clusters() }} as sector_named
        on located.sector_key = {{ name_key('sector_named.cluster_name') }}
    left join {{ clusters() }} as sectors
        on {{ sector_code() }} = sectors.cluster_code
{%- endmacro %}
