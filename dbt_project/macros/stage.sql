{#-
    The normalisation shared by the staging models of one entity. Each staging model
    renames its feed's fields to the common input columns (CTE `renamed`), then calls
    one of these macros, which locate the place, map the codes through the seeds and
    list the normalisation issues of each event:
      issues       list of {field, reason, value}: why a field could not be normalised
      is_excluded  true when the record cannot enter the facts (no admin2 area or an
                   unmapped type/sector); it is then listed in normalisation_issues
-#}

{#- issues([(condition, field, reason_sql, value_sql), ...]): the list of issue structs whose
    condition holds. -#}
{% macro issues(items) -%}
    list_where(
        [{% for c, f, r, v in items %}{'field': '{{ f }}', 'reason': {{ r }}, 'value': cast({{ v }} as varchar)}{% if not loop.last %}, {% endif %}{% endfor %}],
        [{% for c, f, r, v in items %}coalesce({{ c }}, false){% if not loop.last %}, {% endif %}{% endfor %}]
    )
{%- endmacro %}

{% macro stage_incidents(renamed) -%}
    select
        {% for c in envelope_columns() %}located.{{ c }},
        {% endfor %}
        {{ time_precision('located.time_text') }} as time_precision,
        located.source_incident_type,
        types.incident_type,
        types.incident_sub_type,
        try_cast(located.fatalities_text as integer) as fatalities,
        located.description,
        located.place_name,
        located.latitude,
        located.longitude,
        located.location_method,
        located.admin1_pcode,
        located.admin2_pcode,
        {{ issues([
            ('located.location_issue is not null', 'location', 'located.location_issue',
                "coalesce(located.mgrs_ref, located.place_name, located.raw_latitude || ',' || located.raw_longitude, located.admin_ref)"),
            ('types.incident_type is null', 'incident_type',
                "if(located.source_incident_type is null, 'missing_code', 'unmapped_code')", 'located.source_incident_type'),
            ('located.fatalities_text is not null and try_cast(located.fatalities_text as integer) is null',
                'fatalities', "'unreadable_number'", 'located.fatalities_text')
        ]) }} as issues,
        located.admin2_pcode is null or types.incident_type is null as is_excluded
    from ({{ locate(renamed) }}) as located
    left join {{ ref('map_incident_types') }} as types
        on located.agency_id = types.agency_id
        and {{ name_key('located.source_incident_type') }} = {{ name_key('types.source_code') }}
{%- endmacro %}

{% macro stage_deliveries(renamed) -%}
    select
        {% for c in envelope_columns() %}located.{{ c }},
        {% endfor %}
        {{ time_precision('located.time_text') }} as time_precision,
        located.organisation_name,
        located.source_sector,
        sectors.cluster_code,
        sectors.cluster_name,
        located.source_unit,
        units.unit,
        try_cast(replace(located.quantity_text, ',', '') as double) * units.factor as quantity,
        try_cast(replace(located.beneficiaries_text, ',', '') as integer) as beneficiaries,
        located.place_name,
        located.latitude,
        located.longitude,
        located.location_method,
        located.admin1_pcode,
        located.admin2_pcode,
        {{ issues([
            ('located.location_issue is not null', 'location', 'located.location_issue',
                "coalesce(located.place_name, located.raw_latitude || ',' || located.raw_longitude, located.admin_ref)"),
            ('sectors.cluster_code is null', 'sector',
                "if(located.source_sector is null, 'missing_code', 'unmapped_code')", 'located.source_sector'),
            ('located.source_unit is not null and units.unit is null', 'unit', "'unmapped_code'", 'located.source_unit'),
            ("located.quantity_text is not null and try_cast(replace(located.quantity_text, ',', '') as double) is null",
                'quantity', "'unreadable_number'", 'located.quantity_text'),
            ("located.beneficiaries_text is not null and try_cast(replace(located.beneficiaries_text, ',', '') as integer) is null",
                'beneficiaries', "'unreadable_number'", 'located.beneficiaries_text')
        ]) }} as issues,
        located.admin2_pcode is null or sectors.cluster_code is null as is_excluded
    from ({{ locate(renamed) }}) as located
    left join {{ ref('map_sectors') }} as sectors
        on {{ name_key('located.source_sector') }} = {{ name_key('sectors.source_term') }}
    left join {{ ref('map_units') }} as units
        on {{ name_key('located.source_unit') }} = {{ name_key('units.source_unit') }}
{%- endmacro %}

{% macro stage_patrols(renamed) -%}
    select
        {% for c in envelope_columns() %}located.{{ c }},
        {% endfor %}
        {{ time_precision('located.time_text') }} as time_precision,
        located.ended_at,
        located.patrol_unit,
        located.source_patrol_type,
        kinds.patrol_type,
        located.mgrs_ref,
        located.latitude,
        located.longitude,
        located.location_method,
        located.admin1_pcode,
        located.admin2_pcode,
        {{ issues([
            ('located.location_issue is not null', 'location', 'located.location_issue',
                'coalesce(located.mgrs_ref, located.place_name)'),
            ('located.source_patrol_type is not null and kinds.patrol_type is null', 'patrol_type',
                "'unmapped_code'", 'located.source_patrol_type'),
            ('located.end_text is not null and located.ended_at is null', 'ended_at',
                "'unreadable_time'", 'located.end_text')
        ]) }} as issues,
        located.admin2_pcode is null as is_excluded
    from ({{ locate(renamed) }}) as located
    left join {{ ref('map_patrol_types') }} as kinds
        on {{ name_key('located.source_patrol_type') }} = {{ name_key('kinds.source_term') }}
{%- endmacro %}
