{#-
    DuckDB builds each hash join on the side it estimates smaller. A model whose estimates
    are known to be far off (one whose search it guesses a thousand times too small) runs
    between join_sides(true) and join_sides(false): its joins build on the sides its plan
    puts on the right, as written. docs/architecture.md has the measurements.
-#}
{% macro join_sides(as_written) -%}
    {{ return(adapter.dispatch('join_sides')(as_written)) }}
{%- endmacro %}

{% macro default__join_sides(as_written) -%}
    {% if as_written %}set disabled_optimizers = 'build_side_probe_side'{% else %}reset disabled_optimizers{% endif %}
{%- endmacro %}

{% macro spark__join_sides(as_written) -%}
    select 1
{%- endmacro %}
