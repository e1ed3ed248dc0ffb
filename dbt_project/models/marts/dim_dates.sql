-- One row per day from the first to the last day any fact refers to.

with

bounds as (
    select
        min(day) as first_day,
        max(day) as last_day
    from (
        select occurred_on as day from {{ ref('fct_incidents') }}
        union all
        select delivered_on as day from {{ ref('fct_aid_deliveries') }}
        union all
        select started_on as day from {{ ref('fct_patrols') }}
    )
),

days as (
    select cast(series.day_start as date) as date_day
    from bounds,
        {{ day_rows('bounds.first_day', 'bounds.last_day') }} as series (day_start)
)

select
    date_day,
    cast(date_trunc('week', date_day) as date) as week_start,
    cast(date_trunc('month', date_day) as date) as month_start,
    -- a bigint on both engines (Spark's year is an int)
    cast(year(date_day) as bigint) as year_number,
    isoyear(date_day) as iso_year,
    week(date_day) as iso_week,
    isodow(date_day) as iso_day_of_week,
    {{ day_name('date_day') }} as day_name,
    isodow(date_day) >= 6 as is_weekend
from days
