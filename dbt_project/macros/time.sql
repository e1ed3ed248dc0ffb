{#-
    Time normalisation (DESIGN.md, "The common vocabulary"): UTC timestamps with a
    precision. The envelope's occurred_at is parsed at ingest; these macros derive the
    precision from the text as sent and parse further time fields of a payload.
-#}

{#- 'minute' when the text carries a clock time (or is a DTG), 'day' when it is a full
    date, 'month' when only year and month; NULL for empty text. -#}
{% macro time_precision(text) -%}
    case
        when nullif(trim({{ text }}), '') is null then null
        when regexp_matches(upper(replace({{ text }}, ' ', '')), '^\d{6}[A-Z][A-Z]{3}\d{2}$') then 'minute'
        when regexp_matches({{ text }}, '\d{1,2}:\d{2}') then 'minute'
        when regexp_matches({{ text }}, '\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}') then 'day'
        else 'month'
    end
{%- endmacro %}

{#- A military date-time group DDHHMM<zone>MONYY (English or French month) to UTC; NULL if
    unreadable. Zone letters: A..M without J = UTC+1..+12, N..Y = UTC-1..-12, Z = UTC. -#}
{% macro dtg_to_utc(text) -%}
    {%- set g = "upper(replace(" ~ text ~ ", ' ', ''))" -%}
    {%- set pattern = "'^(\\d{2})(\\d{2})(\\d{2})([A-Z])([A-Z]{3})(\\d{2})$'" -%}
    {%- set zone = "regexp_extract(" ~ g ~ ", " ~ pattern ~ ", 4)" -%}
    {%- set mon = "regexp_extract(" ~ g ~ ", " ~ pattern ~ ", 5)" -%}
    timezone('UTC', try_strptime(
        printf(
            '20%s-%02d-%s %s:%s',
            regexp_extract({{ g }}, {{ pattern }}, 6),
            coalesce(
                nullif(list_position(['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], {{ mon }}), 0),
                nullif(list_position(['JAN', 'FEV', 'MAR', 'AVR', 'MAI', 'JUN', 'JUL', 'AOU', 'SEP', 'OCT', 'NOV', 'DEC'], {{ mon }}), 0)
            ),
            regexp_extract({{ g }}, {{ pattern }}, 1),
            regexp_extract({{ g }}, {{ pattern }}, 2),
            regexp_extract({{ g }}, {{ pattern }}, 3)
        ),
        '%Y-%m-%d %H:%M'
    ) - to_hours(
        coalesce(
            nullif(strpos('ABCDEFGHIKLM', {{ zone }}), 0),
            -nullif(strpos('NOPQRSTUVWXY', {{ zone }}), 0),
            if({{ zone }} = 'Z', 0, null)
        )
    ))
{%- endmacro %}

{#- ISO 8601 text to UTC (no offset = UTC, the session's zone); NULL if unreadable. -#}
{% macro iso_to_utc(text) -%}
    try_cast(nullif(trim({{ text }}), '') as timestamptz)
{%- endmacro %}

{#- Local wall-clock text in an IANA zone, parsed with strptime patterns, to UTC. -#}
{% macro local_to_utc(text, patterns, tz) -%}
    timezone('{{ tz }}', try_strptime(nullif(trim({{ text }}), ''), [{% for p in patterns %}'{{ p }}'{% if not loop.last %}, {% endif %}{% endfor %}]))
{%- endmacro %}
