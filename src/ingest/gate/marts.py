"""What the gate reads besides the published marts' own declarations.

Each published mart, its columns and its checks are declared in its dbt YAML and read
through ingest.warehouse.sharing. Vocabularies (codes, p-codes, agencies) and the countries'
bounding box are read from the warehouse when the gate runs (its seeds, its country
packs and its registry), so they follow the data and feeds.yaml, never the code, and the
committed suites need no regeneration.
"""

from __future__ import annotations

from ingest.warehouse.sharing import SCHEMA

__all__ = ["FACTS", "FOLDED", "SCHEMA", "VOCABULARIES", "vocab_parameter"]

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
