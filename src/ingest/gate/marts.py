"""What the gate reads besides the published marts' own declarations.

Each published mart, its columns and its checks are declared in its dbt YAML and read
through ingest.warehouse.sharing. Vocabularies (codes, p-codes, agencies) and the countries'
bounding box are read from the warehouse when the gate runs (its seeds, its country
packs and its registry), so they follow the data and feeds.yaml, never the code, and the
committed suites need no regeneration.
"""

from __future__ import annotations

from ingest.warehouse.sharing import SCHEMA

__all__ = ["DBT_CHECKED", "FACTS", "FOLDED", "SCHEMA", "VOCABULARIES", "vocab_parameter"]

# The vocabularies codes are checked against: name -> SQL over the warehouse giving the
# accepted values (the expectation parameter `vocab_<name>` when the gate runs).
VOCABULARIES = {
    "incident_type": "SELECT DISTINCT incident_type FROM seeds.acled_event_types",
    "incident_sub_type": "SELECT DISTINCT incident_sub_type FROM seeds.acled_event_types",
    "cluster_code": "SELECT cluster_code FROM seeds.iasc_clusters",
    "unit": "SELECT DISTINCT unit FROM seeds.map_units",
    "patrol_type": "SELECT patrol_type FROM seeds.map_patrol_types "
    "UNION SELECT code FROM registry.code_overrides WHERE field = 'patrol_type'",
    "admin0_pcode": "SELECT admin0_pcode FROM pack.admin0",
    "admin1_pcode": "SELECT admin1_pcode FROM pack.admin1",
    "admin2_pcode": "SELECT admin2_pcode FROM pack.admin2",
    "agency_id": "SELECT agency_id FROM registry.agencies",
    "agency_kind": "SELECT DISTINCT agency_kind FROM registry.agencies",
}

# A vocabulary's values as a dbt model or seed holds them (its SQL above reads that seed,
# or the source that model selects every row of): a code column with a relationships
# test to it (MartSpec.related) is checked by dbt in the build the gate follows, which
# fails when it does not hold; the gate does not check it again.
DBT_CHECKED = {
    "incident_type": ("acled_event_types", "incident_type"),
    "cluster_code": ("iasc_clusters", "cluster_code"),
    "agency_id": ("dim_agencies", "agency_id"),  # every row of registry.agencies
    "admin2_pcode": ("dim_locations", "admin2_pcode"),  # every row of pack.admin2
}


def vocab_parameter(name: str) -> dict[str, str]:
    return {"$PARAMETER": f"vocab_{name}"}


FACTS = ("fct_incidents", "fct_aid_deliveries", "fct_patrols", "fct_operational_presence")
# Folded intermediate models: every event of a record, and whether it left the facts.
FOLDED = (
    "int_incidents_folded",
    "int_deliveries_folded",
    "int_patrols_folded",
    "int_presence_folded",
)
