{#- Releasability order (DESIGN.md): public < partners < mission < restricted. -#}
{% macro releasability_order() -%}
    {{ list_literal(["'public'", "'partners'", "'mission'", "'restricted'"]) }}
{%- endmacro %}

{#- The levels as a list whose `[rank]` is the level of that rank (1 = public). Spark's `[]`
    counts from 0, so its list starts with a NULL. -#}
{% macro releasability_levels() -%}
    {{ return(adapter.dispatch('releasability_levels')()) }}
{%- endmacro %}

{% macro default__releasability_levels() -%}
    {{ releasability_order() }}
{%- endmacro %}

{% macro spark__releasability_levels() -%}
    array(cast(null as string), 'public', 'partners', 'mission', 'restricted')
{%- endmacro %}

{#- Rank of a releasability value (1 = public); unknown values rank as restricted. -#}
{% macro releasability_rank(column) -%}
    coalesce(nullif(list_position({{ releasability_order() }}, {{ column }}), 0), 4)
{%- endmacro %}

{#- Aggregate: the strictest releasability among the rows. -#}
{% macro strictest_releasability(column) -%}
    {{ releasability_levels() }}[max({{ releasability_rank(column) }})]
{%- endmacro %}

{#-
    The aggregate rule (docs/need-to-know.md): a row that carries only counts and codes is
    released at var('aggregate_releasability') (or at its sources' level if that is less
    strict) when it counts at least var('aggregate_minimum_count') records; a smaller count
    could point at one restricted record, so it keeps the strictest level of its sources.
    `strictest` is that strictest level (a column or expression), `count` the row's count.
    An unknown setting ranks as restricted: nothing is released by mistake.
-#}
{% macro aggregate_releasability(strictest, count) -%}
    {{ releasability_levels() }}[
        if(
            {{ count }} >= {{ var('aggregate_minimum_count') }},
            least(
                {{ releasability_rank(strictest) }},
                {{ releasability_rank("'" ~ var('aggregate_releasability') ~ "'") }}
            ),
            {{ releasability_rank(strictest) }}
        )
    ]
{%- endmacro %}
