{#- A column type as each engine spells it, for casts (YAML `data_type` cannot call macros: it spells the same choice inline, `{{ 'string' if target.type == 'spark' else 'varchar' }}`): the project
    writes DuckDB's name (`varchar`, `timestamptz`, `varchar[]`, ...). -#}
{% macro sql_type(name) -%}
    {{ return(adapter.dispatch('sql_type')(name)) }}
{%- endmacro %}

{% macro default__sql_type(name) -%}
    {{ return(name) }}
{%- endmacro %}

{% macro spark__sql_type(name) -%}
    {%- set types = {
        'varchar': 'string', 'timestamptz': 'timestamp', 'integer': 'int', 'bigint': 'bigint',
        'double': 'double', 'date': 'date', 'boolean': 'boolean'} -%}
    {%- if name.endswith('[]') -%}
        {{ return('array<' ~ spark__sql_type(name[:-2]) ~ '>') }}
    {%- endif -%}
    {{ return(types[name]) }}
{%- endmacro %}

{#- A list of SQL expressions as a list value: DuckDB `[a, b]`, Spark `array(a, b)`. -#}
{% macro list_literal(items) -%}
    {{ return(adapter.dispatch('list_literal')(items)) }}
{%- endmacro %}

{% macro default__list_literal(items) -%}
    [{{ items | join(', ') }}]
{%- endmacro %}

{% macro spark__list_literal(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}

{#- regexp_replace's trailing argument that replaces every match: DuckDB's 'g' flag; Spark
    replaces every match unless told a position. -#}
{% macro regex_all() -%}
    {{ return(adapter.dispatch('regex_all')()) }}
{%- endmacro %}

{% macro default__regex_all() -%}
    , 'g'
{%- endmacro %}

{% macro spark__regex_all() -%}
{%- endmacro %}

{#- Aggregate: the values of a group as a list ordered by `order_by` (a list of expressions),
    NULLs kept, optionally distinct and of the rows where `filter` holds; NULL when no row
    counts. Spark's collect_list has no order and drops NULLs, so it collects
    (keys..., value) structs, sorts them and keeps the values. DuckDB does the same when the
    order is not the value's own: its ordered aggregate sorts each group apart (4.3 s against
    2.9 s on 1.25M groups, docs/architecture.md). -#}
{% macro ordered_list(value, order_by, distinct=false, filter=none) -%}
    {{ return(adapter.dispatch('ordered_list')(value, order_by, distinct, filter)) }}
{%- endmacro %}

{% macro default__ordered_list(value, order_by, distinct, filter) -%}
    {%- set where = ' filter (where ' ~ filter ~ ')' if filter else '' -%}
    {%- if distinct or order_by == [value] -%}
        list({{ 'distinct ' if distinct }}{{ value }} order by {{ order_by | join(', ') }}){{ where }}
    {%- else -%}
        list_transform(list_sort(list({ {%- for key in order_by %}'k{{ loop.index }}': {{ key }}, {% endfor -%}
            'v': {{ value }}}){{ where }}), lambda e: struct_extract(e, 'v'))
    {%- endif -%}
{%- endmacro %}

{% macro spark__ordered_list(value, order_by, distinct, filter) -%}
    {%- set keys -%}
        {%- for key in order_by %}'k{{ loop.index }}', {{ key }}, {% endfor -%}
    {%- endset -%}
    {%- set where = ' filter (where ' ~ filter ~ ')' if filter else '' -%}
    {%- set values -%}
        transform(array_sort(collect_list(named_struct({{ keys }}'v', {{ value }})){{ where }}), e -> e.v)
    {%- endset -%}
    {%- set values = 'array_distinct(' ~ values ~ ')' if distinct else values -%}
    {%- if filter -%}
        if(count(*){{ where }} = 0, null, {{ values }})
    {%- else -%}
        {{ values }}
    {%- endif -%}
{%- endmacro %}

{#- Aggregate: the values of a group as a list in the order of `key`, one expression whose
    value is unique within the group (ties would come in no fixed order), NULLs kept. DuckDB
    sorts the keys alone and takes the values in their order: gathering (key, value)
    structs to sort, as ordered_list does, cost more when the values are lists
    (docs/architecture.md). -#}
{% macro keyed_list(value, key) -%}
    {{ return(adapter.dispatch('keyed_list')(value, key)) }}
{%- endmacro %}

{% macro default__keyed_list(value, key) -%}
    list_select(list({{ value }}), list_grade_up(list({{ key }})))
{%- endmacro %}

{% macro spark__keyed_list(value, key) -%}
    {{ ordered_list(value, [key]) }}
{%- endmacro %}

{#- Aggregate: the `n` smallest non-NULL values of a group, smallest first. -#}
{% macro smallest_values(value, n) -%}
    {{ return(adapter.dispatch('smallest_values')(value, n)) }}
{%- endmacro %}

{% macro default__smallest_values(value, n) -%}
    min({{ value }}, {{ n }})
{%- endmacro %}

{% macro spark__smallest_values(value, n) -%}
    slice(array_sort(collect_list({{ value }})), 1, {{ n }})
{%- endmacro %}

{#- The `index`th element (from 1) of a list; NULL past its end. -#}
{% macro list_item(list, index) -%}
    {{ return(adapter.dispatch('list_item')(list, index)) }}
{%- endmacro %}

{% macro default__list_item(list, index) -%}
    {{ list }}[{{ index }}]
{%- endmacro %}

{% macro spark__list_item(list, index) -%}
    try_element_at({{ list }}, {{ index }})
{%- endmacro %}

{#- An empty list (of the type the context needs). -#}
{% macro empty_list() -%}
    {{ return(adapter.dispatch('empty_list')()) }}
{%- endmacro %}

{% macro default__empty_list() -%}
    []
{%- endmacro %}

{% macro spark__empty_list() -%}
    array()
{%- endmacro %}

{#- A table function of one row per element of a list, in `from x, {{ list_rows(...) }} as t (c)`:
    DuckDB unnest, Spark explode. -#}
{% macro list_rows(list) -%}
    {{ return(adapter.dispatch('list_rows')(list)) }}
{%- endmacro %}

{% macro default__list_rows(list) -%}
    unnest({{ list }})
{%- endmacro %}

{% macro spark__list_rows(list) -%}
    lateral explode({{ list }})
{%- endmacro %}

{#- In a select list: one row per element of a list (DuckDB unnest, Spark explode). -#}
{% macro list_values(list) -%}
    {{ return(adapter.dispatch('list_values')(list)) }}
{%- endmacro %}

{% macro default__list_values(list) -%}
    unnest({{ list }})
{%- endmacro %}

{% macro spark__list_values(list) -%}
    explode({{ list }})
{%- endmacro %}

{#- `text` split at every `separator` (one plain character) into a list. -#}
{% macro split_text(text, separator) -%}
    {{ return(adapter.dispatch('split_text')(text, separator)) }}
{%- endmacro %}

{% macro default__split_text(text, separator) -%}
    string_split({{ text }}, '{{ separator }}')
{%- endmacro %}

{#- Spark's split takes a regular expression: the character in a class is itself. -#}
{% macro spark__split_text(text, separator) -%}
    split({{ text }}, '[{{ separator }}]')
{%- endmacro %}

{#- A table function of one row per day from `first` to `last` (both included). -#}
{% macro day_rows(first, last) -%}
    {{ return(adapter.dispatch('day_rows')(first, last)) }}
{%- endmacro %}

{% macro default__day_rows(first, last) -%}
    generate_series({{ first }}, {{ last }}, interval 1 day)
{%- endmacro %}

{% macro spark__day_rows(first, last) -%}
    lateral explode(sequence({{ first }}, {{ last }}, interval 1 day))
{%- endmacro %}

{#- The English name of a date's weekday ('Monday'). -#}
{% macro day_name(day) -%}
    {{ return(adapter.dispatch('day_name')(day)) }}
{%- endmacro %}

{% macro default__day_name(day) -%}
    strftime({{ day }}, '%A')
{%- endmacro %}

{% macro spark__day_name(day) -%}
    date_format({{ day }}, 'EEEE')
{%- endmacro %}

{#- A struct of (name, expression) pairs: DuckDB {'name': e}, Spark named_struct('name', e). -#}
{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of')(fields)) }}
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    { {%- for name, value in fields %}'{{ name }}': {{ value }}{{ ', ' if not loop.last }}{% endfor -%} }
{%- endmacro %}

{% macro spark__struct_of(fields) -%}
    named_struct({%- for name, value in fields %}'{{ name }}', {{ value }}{{ ', ' if not loop.last }}{% endfor -%})
{%- endmacro %}

{#- The expressions' values that are not NULL, as a list. -#}
{% macro non_null_list(items) -%}
    {{ return(adapter.dispatch('non_null_list')(items)) }}
{%- endmacro %}

{% macro default__non_null_list(items) -%}
    list_filter([{{ items | join(', ') }}], lambda match: match is not null)
{%- endmacro %}

{% macro spark__non_null_list(items) -%}
    filter(array({{ items | join(', ') }}), match -> match is not null)
{%- endmacro %}

{#- A CTE DuckDB computes once however often it is read (`as materialized (...)`); Spark has
    no such hint (it may compute it again). -#}
{% macro keep_cte() -%}
    {{ return(adapter.dispatch('keep_cte')()) }}
{%- endmacro %}

{% macro default__keep_cte() -%}
    {{ return('materialized ') }}
{%- endmacro %}

{% macro spark__keep_cte() -%}
    {{ return('') }}
{%- endmacro %}

{#- Several values compared as one, in order (an ordering key of max_by / min_by): DuckDB
    (a, b), Spark struct(a, b). -#}
{% macro tuple_of(items) -%}
    {{ return(adapter.dispatch('tuple_of')(items)) }}
{%- endmacro %}

{% macro default__tuple_of(items) -%}
    ({{ items | join(', ') }})
{%- endmacro %}

{% macro spark__tuple_of(items) -%}
    struct({{ items | join(', ') }})
{%- endmacro %}

{#- The number of elements of a list (NULL for NULL). -#}
{% macro list_size(list) -%}
    {{ return(adapter.dispatch('list_size')(list)) }}
{%- endmacro %}

{% macro default__list_size(list) -%}
    len({{ list }})
{%- endmacro %}

{% macro spark__list_size(list) -%}
    cast(array_size({{ list }}) as bigint)
{%- endmacro %}

{#- A struct's field by name. -#}
{% macro field_of(struct, name) -%}
    {{ return(adapter.dispatch('field_of')(struct, name)) }}
{%- endmacro %}

{% macro default__field_of(struct, name) -%}
    struct_extract({{ struct }}, '{{ name }}')
{%- endmacro %}

{% macro spark__field_of(struct, name) -%}
    {{ struct }}.{{ name }}
{%- endmacro %}

{#- Two lists one after the other. -#}
{% macro list_concat(left, right) -%}
    {{ return(adapter.dispatch('list_concat')(left, right)) }}
{%- endmacro %}

{% macro default__list_concat(left, right) -%}
    list_concat({{ left }}, {{ right }})
{%- endmacro %}

{% macro spark__list_concat(left, right) -%}
    concat({{ left }}, {{ right }})
{%- endmacro %}

{#- The `index`th (from 1) of a list of expressions; NULL past its end. -#}
{% macro pick(items, index) -%}
    {{ list_item(list_literal(items), index) }}
{%- endmacro %}

{#- The mean of a list's non-NULL numbers, summed in the list's order; NULL when none. -#}
{% macro list_mean(list) -%}
    {{ return(adapter.dispatch('list_mean')(list)) }}
{%- endmacro %}

{% macro default__list_mean(list) -%}
    list_avg({{ list }})
{%- endmacro %}

{% macro spark__list_mean(list) -%}
    aggregate(filter({{ list }}, x -> x is not null), struct(cast(0 as double) as total, 0 as n),
        (acc, x) -> struct(acc.total + x as total, acc.n + 1 as n),
        acc -> if(acc.n = 0, null, acc.total / acc.n))
{%- endmacro %}

{#- The list of times from `first` to `last` (both included) by `step`; empty when `first`
    is after `last` (Spark's sequence would count down, or fail). -#}
{% macro series_list(first, last, step) -%}
    {{ return(adapter.dispatch('series_list')(first, last, step)) }}
{%- endmacro %}

{% macro default__series_list(first, last, step) -%}
    generate_series(
            {{ first }},
            {{ last }},
            {{ step }}
        )
{%- endmacro %}

{% macro spark__series_list(first, last, step) -%}
    if({{ first }} <= {{ last }},
        sequence(cast({{ first }} as timestamp), cast({{ last }} as timestamp), {{ step }}), array())
{%- endmacro %}

{#- The integers from `start` up to `stop`, `stop` excluded (DuckDB's range); empty when
    `stop` <= `start` (Spark's sequence includes its end and counts down). -#}
{% macro range_list(start, stop) -%}
    {{ return(adapter.dispatch('range_list')(start, stop)) }}
{%- endmacro %}

{% macro default__range_list(start, stop) -%}
    range(
            {{ start }},
            {{ stop }}
        )
{%- endmacro %}

{% macro spark__range_list(start, stop) -%}
    if(({{ start }}) < ({{ stop }}), sequence({{ start }}, ({{ stop }}) - 1), array())
{%- endmacro %}

{#- In a select list: one row per element of a list of structs, a column per named field. -#}
{% macro list_fields(list, fields) -%}
    {{ return(adapter.dispatch('list_fields')(list, fields)) }}
{%- endmacro %}

{% macro default__list_fields(list, fields) -%}
    {%- for field in fields %}unnest({{ list }}).{{ field }} as {{ field }}{{ ',\n        ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{#- Spark's inline gives every field of the struct: the list's structs have only these. -#}
{% macro spark__list_fields(list, fields) -%}
    inline({{ list }})
{%- endmacro %}

{#- Window function: how many distinct non-NULL values of `column` the window holds. -#}
{% macro count_distinct_over(column, window) -%}
    {{ return(adapter.dispatch('count_distinct_over')(column, window)) }}
{%- endmacro %}

{% macro default__count_distinct_over(column, window) -%}
    count(distinct {{ column }}) over ({{ window }})
{%- endmacro %}

{#- Spark has no distinct window aggregates: the size of the set of values. -#}
{% macro spark__count_distinct_over(column, window) -%}
    size(collect_set({{ column }}) over ({{ window }}))
{%- endmacro %}

{#- `select * {{ all_but() }} (a, b)`: every column but these (DuckDB exclude, Spark except;
    sqlfluff's DuckDB dialect reads only the first). -#}
{% macro all_but() -%}
    {{ return(adapter.dispatch('all_but')()) }}
{%- endmacro %}

{% macro default__all_but() -%}
    {{ return('exclude') }}
{%- endmacro %}

{% macro spark__all_but() -%}
    {{ return('except') }}
{%- endmacro %}

{#- Aggregate (or, followed by `over`, window) function: the values as a list. Spark's
    collect_list leaves NULLs out: only for columns that are never NULL. -#}
{% macro list_agg(value) -%}
    {{ return(adapter.dispatch('list_agg')(value)) }}
{%- endmacro %}

{% macro default__list_agg(value) -%}
    list({{ value }})
{%- endmacro %}

{% macro spark__list_agg(value) -%}
    collect_list({{ value }})
{%- endmacro %}

{#- Aggregate: the `fraction` quantile, interpolated between the two nearest values. -#}
{% macro quantile(value, fraction) -%}
    {{ return(adapter.dispatch('quantile')(value, fraction)) }}
{%- endmacro %}

{% macro default__quantile(value, fraction) -%}
    quantile_cont({{ value }}, {{ fraction }})
{%- endmacro %}

{% macro spark__quantile(value, fraction) -%}
    percentile({{ value }}, {{ fraction }})
{%- endmacro %}

{#- A date (or a time's date) as text, `2026-11-30`. -#}
{% macro date_text(day) -%}
    {{ return(adapter.dispatch('date_text')(day)) }}
{%- endmacro %}

{% macro default__date_text(day) -%}
    strftime({{ day }}, '%Y-%m-%d')
{%- endmacro %}

{% macro spark__date_text(day) -%}
    date_format({{ day }}, 'yyyy-MM-dd')
{%- endmacro %}

{#- Seconds from `earlier` to `later` (two times), fractional. -#}
{% macro seconds_between(later, earlier) -%}
    {{ return(adapter.dispatch('seconds_between')(later, earlier)) }}
{%- endmacro %}

{#- in whole microseconds first: DuckDB subtracts two timestamptz through ICU's calendar,
    60 times slower (5.9 s against 0.1 s for 37M rows at 10M events) -#}
{% macro default__seconds_between(later, earlier) -%}
    ((epoch_us({{ later }}) - epoch_us({{ earlier }})) / 1e6)
{%- endmacro %}

{% macro spark__seconds_between(later, earlier) -%}
    ((unix_micros({{ later }}) - unix_micros({{ earlier }})) / 1e6)
{%- endmacro %}

{#- The date of a time. DuckDB takes a timestamptz's date through ICU's calendar, ten times
    slower than from its epoch (1.6 s against 0.16 s for 37M rows at 10M events); the
    warehouse's session is in UTC (profiles.yml), so both give the same day. -#}
{% macro utc_date(at) -%}
    {{ return(adapter.dispatch('utc_date')(at)) }}
{%- endmacro %}

{% macro default__utc_date(at) -%}
    cast(make_timestamp(epoch_us({{ at }})) as date)
{%- endmacro %}

{% macro spark__utc_date(at) -%}
    cast({{ at }} as date)
{%- endmacro %}

{#- The Monday of a time's ISO week, a date (from utc_date: the week of a timestamptz through
    ICU's calendar takes eleven times as long). -#}
{% macro week_start(at) -%}
    {{ return(adapter.dispatch('week_start')(at)) }}
{%- endmacro %}

{% macro default__week_start(at) -%}
    cast(date_trunc('week', {{ utc_date(at) }}) as date)
{%- endmacro %}

{% macro spark__week_start(at) -%}
    cast(date_trunc('week', {{ at }}) as date)
{%- endmacro %}

{#- The last day of the period a time stands for at its precision (year, month, else its day). -#}
{% macro precision_end(precision, at) -%}
    {{ return(adapter.dispatch('precision_end')(precision, at)) }}
{%- endmacro %}

{% macro default__precision_end(precision, at) -%}
    cast(
            date_trunc(coalesce({{ precision }}, 'day'), {{ at }})
            + case {{ precision }}
                when 'year' then interval 1 year
                when 'month' then interval 1 month
                else interval 1 day
            end
            - interval 1 day as date
        )
{%- endmacro %}

{#- Spark cannot add year-month and day-time intervals in one expression. -#}
{% macro spark__precision_end(precision, at) -%}
    case {{ precision }}
            when 'year' then date_add(add_months(cast(date_trunc('year', {{ at }}) as date), 12), -1)
            when 'month' then date_add(add_months(cast(date_trunc('month', {{ at }}) as date), 1), -1)
            else cast({{ at }} as date)
        end
{%- endmacro %}

{#- Every row of `left` with the least `value` of the `right` rows it matches by `condition`
    (an equality, and `<=` on the ordered column), as `name`; NULL when none. -#}
{% macro first_match(left, right, condition, value, name) -%}
    {{ return(adapter.dispatch('first_match')(left, right, condition, value, name)) }}
{%- endmacro %}

{#- DuckDB's as-of join: linear in both sides. -#}
{% macro default__first_match(left, right, condition, value, name) -%}
    select
        {{ left }}.*,
        {{ value }} as {{ name }}
    from {{ left }}
    asof left join {{ right }}
        on {{ condition }}
{%- endmacro %}

{#- Spark has no as-of join: a correlated subquery, which it runs as a join on the equality
    (pairs within one area) and an aggregate. -#}
{% macro spark__first_match(left, right, condition, value, name) -%}
    select
        {{ left }}.*,
        (select min({{ value }}) from {{ right }} where {{ condition }}) as {{ name }}
    from {{ left }}
{%- endmacro %}

{#- Days from date `earlier` to date `later` (DuckDB subtracts dates to a number of days, Spark to
    an interval). -#}
{% macro days_between(later, earlier) -%}
    {{ return(adapter.dispatch('days_between')(later, earlier)) }}
{%- endmacro %}

{% macro default__days_between(later, earlier) -%}
    {{ later }} - {{ earlier }}
{%- endmacro %}

{% macro spark__days_between(later, earlier) -%}
    datediff({{ later }}, {{ earlier }})
{%- endmacro %}

{#- Aggregate: the product of the values (NULLs left out; NULL when there are none). Spark
    has no SQL aggregate `product`: it multiplies the collected list, in whatever order
    the list has (a float product may differ from DuckDB's in its last bits). -#}
{% macro product_of(value) -%}
    {{ return(adapter.dispatch('product_of')(value)) }}
{%- endmacro %}

{% macro default__product_of(value) -%}
    product({{ value }})
{%- endmacro %}

{% macro spark__product_of(value) -%}
    if(
        count({{ value }}) = 0,
        cast(null as double),
        aggregate(collect_list(cast({{ value }} as double)), cast(1 as double), (acc, v) -> acc * v)
    )
{%- endmacro %}

{#- DuckDB's Jaro-Winkler similarity of two strings. Spark 4.3 has a built-in of the same
    name that gives other values (323 of 6,973 name pairs differ, e.g. 'p100' and 'p068':
    0.7 on Spark, 0.667 on DuckDB) and takes precedence over a session function of that
    name, so on Spark the Python stand-in (ingest.warehouse.duckdb_functions) is registered
    as duckdb_jaro_winkler_similarity and called so. -#}
{% macro jaro_winkler(left, right) -%}
    {{ return(adapter.dispatch('jaro_winkler')(left, right)) }}
{%- endmacro %}

{% macro default__jaro_winkler(left, right) -%}
    jaro_winkler_similarity({{ left }}, {{ right }})
{%- endmacro %}

{% macro spark__jaro_winkler(left, right) -%}
    duckdb_jaro_winkler_similarity({{ left }}, {{ right }})
{%- endmacro %}

{#- What tells the rows of a table apart within one query, cheaper to join on than its key
    `key` (of the table `relation`, named as in the query): DuckDB's rowid; Spark has none,
    so the key. -#}
{% macro row_locator(relation, key) -%}
    {{ return(adapter.dispatch('row_locator')(relation, key)) }}
{%- endmacro %}

{% macro default__row_locator(relation, key) -%}
    {{ relation }}.rowid
{%- endmacro %}

{% macro spark__row_locator(relation, key) -%}
    {{ relation }}.{{ key }}
{%- endmacro %}

{#- Between `as` and the body of a CTE read more than once that is cheaper to compute again
    than to write: DuckDB materializes such a CTE to a temporary table. A staging model's
    `source`, read by every feed's branch, wrote all the entity's events, payloads and all
    (10 GB spilled for incidents at 10M events), and each branch scanned it whole; inlined,
    each branch reads only its own feed's Parquet partition. Spark inlines CTEs. -#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined')()) }}
{%- endmacro %}

{% macro default__inlined() -%}
    not materialized
{%- endmacro %}

{% macro spark__inlined() -%}
{%- endmacro %}
