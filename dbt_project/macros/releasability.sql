{#- Releasability order (DESIGN.md): public < partners < mission < restricted. -#}
{% macro releasability_levels() -%}
    ['public', 'partners', 'mission', 'restricted']
{%- endmacro %}

{#- Rank of a releasability value (1 = public); unknown values rank as restricted. -#}
{% macro releasability_rank(column) -%}
    coalesce(nullif(list_position({{ releasability_levels() }}, {{ column }}), 0), 4)
{%- endmacro %}

{#- Aggregate: the strictest releasability among the rows. -#}
{% macro strictest_releasability(column) -%}
    {{ releasability_levels() }}[max({{ releasability_rank(column) }})]
{%- endmacro %}
