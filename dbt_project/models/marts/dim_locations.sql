-- The admin2 areas of the gazetteer with their admin1 area: the places every fact points to.

select
    admin2.admin2_pcode,
    admin2.admin2_name,
    admin2.admin1_pcode,
    admin1.admin1_name,
    'public' as releasability
from {{ ref('gazetteer_admin2') }} as admin2
left join {{ ref('gazetteer_admin1') }} as admin1
    on admin2.admin1_pcode = admin1.admin1_pcode
