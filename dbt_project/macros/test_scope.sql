{#-
    Data tests of the largest incremental models look only at what the model's last run
    could have broken, unless the build is a full refresh. A test's `where` config names
    those rows with placeholders (dbt renders a test's `where` when it parses the project,
    so it cannot ask whether a run is incremental; this macro can):
      __patrol_id_changed__,     the row's patrol (delivery) changed since the watermark
      __delivery_id_changed__    the model's last run started from (macro is_changed; a
                                 delivery also when re-resolved), i.e. the row is one
                                 that run wrote;
      __this__                   the tested relation;
      __started__                the start of the model's last run (its watermark),
                                 which a column the run stamps (resolved_at) holds
                                 in the rows that run wrote.
    A `unique` test on `key in (<keys the last run wrote>)` is exact: rows written before
    were unique among themselves, so any duplicate has a row the last run wrote, and the
    other row has the same key.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set is_scoped = '_changed__' in where or '__this__' in where or '__started__' in where -%}
    {%- if is_scoped and flags.FULL_REFRESH -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if is_scoped -%}
        {%- set keyed = api.Relation.create(
            database=relation.database, schema='intermediate', identifier='int_events_keyed'
        ) -%}
        {%- set resolved = api.Relation.create(
            database=relation.database, schema='intermediate', identifier='int_deliveries_resolved'
        ) -%}
        {#- a namespace: a plain `set` inside a loop would not outlive it (Jinja) -#}
        {%- set scoped = namespace(where=where.replace('__this__', relation | string)
            .replace('__started__', watermark(relation.identifier))) -%}
        {%- for column, entity in {'patrol_id': 'patrol', 'delivery_id': 'delivery'}.items() -%}
            {%- set placeholder = '__' ~ column ~ '_changed__' -%}
            {%- if placeholder in scoped.where -%}
                {%- set scoped.where = scoped.where.replace(placeholder, is_changed(
                    column, entity, relation.identifier, 'previous_through', keyed, resolved)) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set where = scoped.where -%}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}
