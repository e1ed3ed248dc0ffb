-- Admin2 areas by normalised name, for feeds that name the area instead of giving its p-code.

with

keyed as (
    select
        {{ name_key('admin2_name') }} as name_key,
        admin2_pcode,
        admin1_pcode
    from {{ ref('gazetteer_admin2') }}
)

select
    name_key,
    any_value(admin2_pcode) as admin2_pcode,
    any_value(admin1_pcode) as admin1_pcode
from keyed
where name_key is not null
group by name_key
having count(distinct admin2_pcode) = 1
