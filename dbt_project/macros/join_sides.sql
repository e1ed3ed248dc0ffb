{#-
    DuckDB builds each hash join on the side it estimates smaller. A model whose estimates
    are known to be far off (one whose search it guesses a thousand times too small) runs
    between these two hooks: its joins build on the sides its plan puts on the right, as
    written. docs/architecture.md has the measurements.
-#}
{% macro keep_join_sides() -%}
    {{ return(adapter.dispatch('keep_join_sides')()) }}
{%- endmacro %}

{% macro default__keep_join_sides() -%}
    set disabled_optimizers = 'build_side_probe_side'
{%- endmacro %}

{% macro spark__keep_join_sides() -%}
    select 1
{%- endmacro %}

{% macro choose_join_sides() -%}
    {{ return(adapter.dispatch('choose_join_sides')()) }}
{%- endmacro %}

{% macro default__choose_join_sides() -%}
    reset disabled_optimizers
{%- endmacro %}

{% macro spark__choose_join_sides() -%}
    select 1
{%- endmacro %}
