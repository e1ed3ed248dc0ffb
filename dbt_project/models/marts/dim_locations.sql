-- The admin2 areas of the country packs with their admin1 area.

select
    admin2.admin2_pcode,
    admin2.admin2_name,
    admin2.admin1_pcode,
    admin1.admin1_name,
    'public' as releasability
from {{ source('pack', 'admin2') }} as admin2
left join {{ source('pack', 'admin1') }} as admin1
    on admin2.admin1_pcode = admin1.admin1_pcode
