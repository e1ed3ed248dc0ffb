"""What the gate checks and what publishing shares, per published mart.

Every published mart is declared here with all its columns (a test compares them
with the mart YAMLs under dbt_project/models/marts/, so a new column cannot reach a
partner unreviewed) and the checks it must pass. Vocabularies (codes, p-codes,
agencies) and the countries' bounding box are read from the warehouse when the gate
runs (its seeds, its country packs and its registry), so they follow the data and
feeds.yaml, never the code, and the committed suites need no regeneration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCHEMA = "marts"

RELEASABILITY = ("public", "partners", "mission", "restricted")
TIME_PRECISIONS = ("minute", "day", "month", "year")
ADMIN_LEVELS = (0, 1, 2)
LOCATION_METHODS = ("coordinates", "mgrs", "place_name", "admin_area")

# Column names that hold free text or people's names. They are never shared below
# mission level, whichever mart they appear in (see ingest.publish for why they are
# dropped rather than scrubbed).
FREE_TEXT = re.compile(
    r"(^|_)(description|notes?|summary|narrative|comments?|remarks?|text|message|raw|value|"
    r"person|persons|contact|reporter|reported_by|focal_point|author|name_of)($|_)"
)


@dataclass(frozen=True)
class MartSpec:
    """A published mart: its key, its columns and what the gate checks on them."""

    name: str
    key: str
    columns: tuple[str, ...]
    # timestamptz columns that must lie between the mission start and now
    times: tuple[str, ...] = ()
    # date columns with the same rule (cast to a timestamp for the check)
    dates: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    # (latitude, longitude) columns that must lie inside the country
    coordinates: tuple[str, str] | None = None
    # column -> name of its vocabulary (VOCABULARIES): codes that must be in it
    vocab: dict[str, str] = field(default_factory=dict)
    # column -> fixed accepted values
    accepted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Columns shared only at mission level (free text, names, operational detail).
    mission_only: tuple[str, ...] = ()
    # Releasability of every row when the mart has no releasability column.
    implicit_releasability: str | None = None
    # A mart of aggregates (docs/need-to-know.md): `releasability` releases the row's
    # counts and codes under the aggregate rule, and these columns, record content (times,
    # measures or ids of single records), reach only audiences at or above the row's
    # `content_releasability`; below it they are published null.
    content: tuple[str, ...] = ()
    # HXL hashtags per column: the mart is exported as an HXL-tagged CSV.
    hxl: dict[str, str] | None = None

    @property
    def has_releasability(self) -> bool:
        return "releasability" in self.columns

    @property
    def is_aggregate(self) -> bool:
        return "content_releasability" in self.columns

    @property
    def relation(self) -> str:
        return f"{SCHEMA}.{self.name}"

    def shared_columns(self, audience: str) -> list[str]:
        """The columns an audience may see: everything at mission level; below it,
        neither the declared mission-only columns nor any free-text-looking column."""
        if audience == "mission":
            return list(self.columns)
        return [c for c in self.columns if c not in self.mission_only and not FREE_TEXT.search(c)]


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


COMMON_FACT = ("source_count", "source_event_ids", "releasability")
ADMIN2 = "admin2_pcode"
ADMIN1 = "admin1_pcode"
AGENCY = "agency_id"
# Where a fact happened, at the finest admin level its record supports.
LOCATION = (
    "latitude",
    "longitude",
    "location_method",
    "admin_level",
    "admin0_pcode",
    "admin1_pcode",
    "admin2_pcode",
)
# What an incident report says, as fct_incidents unifies it and fct_incident_history keeps
# each version of it.
INCIDENT_CONTENT = ("incident_type", "incident_sub_type", "fatalities", *LOCATION)
INCIDENT_CODES = {
    "incident_type": "incident_type",
    "incident_sub_type": "incident_sub_type",
    "admin2_pcode": ADMIN2,
    "admin1_pcode": ADMIN1,
    "admin0_pcode": "admin0_pcode",
}

# Record content of a coverage gap: the times, the fatalities (a sum one incident can
# dominate) and the ids of the uncovered incidents and of the last delivery; not the
# counts nor the area codes.
GAP_CONTENT = (
    "uncovered_fatalities",
    "first_uncovered_at",
    "last_uncovered_at",
    "last_delivery_at",
    "incident_ids",
    "source_event_ids",
)

MARTS: tuple[MartSpec, ...] = (
    MartSpec(
        name="fct_incidents",
        key="incident_id",
        columns=(
            "incident_id",
            "occurred_at",
            "occurred_on",
            "time_precision",
            *INCIDENT_CONTENT,
            "source_count",
            "agency_count",
            "agency_ids",
            "source_record_keys",
            "source_event_ids",
            "confidence",
            "releasability",
            "first_recorded_at",
            "last_recorded_at",
        ),
        times=("occurred_at", "first_recorded_at", "last_recorded_at"),
        dates=("occurred_on",),
        not_null=("occurred_at", "incident_type", "admin_level"),
        coordinates=("latitude", "longitude"),
        vocab=INCIDENT_CODES,
        accepted={
            "time_precision": TIME_PRECISIONS,
            "location_method": LOCATION_METHODS,
            "admin_level": ADMIN_LEVELS,
        },
    ),
    MartSpec(
        name="fct_aid_deliveries",
        key="delivery_id",
        columns=(
            "delivery_id",
            "feed_id",
            "agency_id",
            "record_id",
            "organisation_name",
            "cluster_code",
            "cluster_name",
            "source_sector",
            "quantity",
            "unit",
            "beneficiaries",
            "delivered_at",
            "delivered_on",
            "time_precision",
            *LOCATION,
            "source_count",
            "agency_count",
            "agency_ids",
            "source_record_keys",
            "source_beneficiaries",
            "source_event_ids",
            "correction_count",
            "releasability",
            "first_recorded_at",
            "last_recorded_at",
        ),
        times=("delivered_at", "first_recorded_at", "last_recorded_at"),
        dates=("delivered_on",),
        not_null=("delivered_at", "cluster_code", "admin_level"),
        coordinates=("latitude", "longitude"),
        vocab={
            "agency_id": AGENCY,
            "cluster_code": "cluster_code",
            "unit": "unit",
            "admin2_pcode": ADMIN2,
            "admin1_pcode": ADMIN1,
            "admin0_pcode": "admin0_pcode",
        },
        accepted={
            "time_precision": TIME_PRECISIONS,
            "location_method": LOCATION_METHODS,
            "admin_level": ADMIN_LEVELS,
        },
        hxl={
            "delivery_id": "#activity+code",
            "feed_id": "#meta+feed",
            "agency_id": "#org+reporting+code",
            "record_id": "#meta+record",
            "organisation_name": "#org+name",
            "cluster_code": "#sector+code",
            "cluster_name": "#sector+name",
            "source_sector": "#sector+source",
            "quantity": "#output+num",
            "unit": "#output+unit",
            "beneficiaries": "#reached+ind",
            "delivered_at": "#date+delivered",
            "delivered_on": "#date+delivered+day",
            "time_precision": "#date+precision",
            "latitude": "#geo+lat",
            "longitude": "#geo+lon",
            "location_method": "#geo+method",
            "admin_level": "#adm+level",
            "admin0_pcode": "#country+code",
            "admin1_pcode": "#adm1+code",
            "admin2_pcode": "#adm2+code",
            "source_count": "#meta+sources+num",
            "agency_count": "#meta+agencies+num",
            "agency_ids": "#org+reporting+list",
            "source_record_keys": "#meta+records",
            "source_beneficiaries": "#reached+ind+sources",
            "source_event_ids": "#meta+events",
            "correction_count": "#meta+corrections+num",
            "releasability": "#meta+releasability",
            "first_recorded_at": "#date+recorded+first",
            "last_recorded_at": "#date+recorded+last",
        },
    ),
    MartSpec(
        name="fct_patrols",
        key="patrol_id",
        columns=(
            "patrol_id",
            "feed_id",
            "agency_id",
            "record_id",
            "patrol_unit",
            "patrol_type",
            "source_patrol_type",
            "started_at",
            "ended_at",
            "started_on",
            "time_precision",
            "mgrs_ref",
            *LOCATION,
            "source_count",
            "source_event_ids",
            "correction_count",
            "releasability",
            "first_recorded_at",
            "last_recorded_at",
        ),
        times=("started_at", "ended_at", "first_recorded_at", "last_recorded_at"),
        dates=("started_on",),
        not_null=("started_at", "admin_level"),
        coordinates=("latitude", "longitude"),
        vocab={
            "agency_id": AGENCY,
            "patrol_type": "patrol_type",
            "admin2_pcode": ADMIN2,
            "admin1_pcode": ADMIN1,
            "admin0_pcode": "admin0_pcode",
        },
        accepted={
            "time_precision": TIME_PRECISIONS,
            "location_method": LOCATION_METHODS,
            "admin_level": ADMIN_LEVELS,
        },
        # The unit and its exact grid reference are operational detail.
        mission_only=("patrol_unit", "mgrs_ref"),
    ),
    MartSpec(
        name="fct_operational_presence",
        key="presence_id",
        columns=(
            "presence_id",
            "feed_id",
            "agency_id",
            "record_id",
            "location_code",
            "location_name",
            "admin_level",
            "admin0_pcode",
            "admin1_code",
            "admin1_name",
            "admin2_code",
            "admin2_name",
            "org_acronym",
            "org_name",
            "org_type_description",
            "sector_code",
            "sector_name",
            "source_sector",
            "reference_period_start",
            "reference_period_end",
            "time_precision",
            "latitude",
            "longitude",
            "location_method",
            "source_count",
            "source_event_ids",
            "correction_count",
            "releasability",
            "first_recorded_at",
            "last_recorded_at",
        ),
        times=("first_recorded_at", "last_recorded_at"),
        not_null=("org_name", "sector_code", "admin_level"),
        coordinates=("latitude", "longitude"),
        vocab={
            "agency_id": AGENCY,
            "sector_code": "cluster_code",
            "admin0_pcode": "admin0_pcode",
            "admin1_code": ADMIN1,
            "admin2_code": ADMIN2,
        },
        accepted={
            "time_precision": TIME_PRECISIONS,
            "location_method": LOCATION_METHODS,
            "admin_level": ADMIN_LEVELS,
        },
        hxl={
            "presence_id": "#activity+code",
            "feed_id": "#meta+feed",
            "agency_id": "#org+reporting+code",
            "record_id": "#meta+record",
            "location_code": "#country+code",
            "location_name": "#country+name",
            "admin_level": "#adm+level",
            "admin1_code": "#adm1+code",
            "admin1_name": "#adm1+name",
            "admin2_code": "#adm2+code",
            "admin2_name": "#adm2+name",
            "org_acronym": "#org+acronym",
            "org_name": "#org+name",
            "org_type_description": "#org+type",
            "sector_code": "#sector+code",
            "sector_name": "#sector+name",
            "source_sector": "#sector+source",
            "reference_period_start": "#date+start",
            "reference_period_end": "#date+end",
            "time_precision": "#date+precision",
            "latitude": "#geo+lat",
            "longitude": "#geo+lon",
            "releasability": "#meta+releasability",
        },
    ),
    # Time travel: every version of every incident report with the interval in which it
    # was the known one (docs/architecture.md). Rows are shared as strictly as the report's
    # strictest version and its current unified incident (fct_incidents).
    MartSpec(
        name="fct_incident_history",
        key="event_id",
        columns=(
            "event_id",
            "record_key",
            "incident_id",
            "feed_id",
            "agency_id",
            "record_id",
            "version",
            "event_type",
            "known_from",
            "known_to",
            "ended_by",
            "occurred_at",
            "time_precision",
            *INCIDENT_CONTENT,
            "releasability",
            "recorded_at",
            "load_id",
        ),
        times=("known_from", "known_to", "occurred_at", "recorded_at"),
        not_null=("known_from", "occurred_at", "incident_type"),
        coordinates=("latitude", "longitude"),
        vocab={**INCIDENT_CODES, "agency_id": AGENCY},
        accepted={
            "ended_by": ("corrected", "retracted", "excluded"),
            "time_precision": TIME_PRECISIONS,
            "location_method": LOCATION_METHODS,
            "admin_level": ADMIN_LEVELS,
        },
    ),
    MartSpec(
        name="dim_agencies",
        key="agency_id",
        columns=(
            "agency_id",
            "agency_name",
            "agency_acronym",
            "agency_kind",
            "is_humanitarian",
            "is_military",
            "reporting_reliability",
            "default_releasability",
            "feed_ids",
        ),
        vocab={"agency_id": AGENCY, "agency_kind": "agency_kind"},
        accepted={"default_releasability": RELEASABILITY},
        # The hub's own judgement of each agency's reliability stays inside the mission.
        mission_only=("reporting_reliability",),
        implicit_releasability="public",
    ),
    MartSpec(
        name="dim_locations",
        key="admin2_pcode",
        columns=("admin2_pcode", "admin2_name", "admin1_pcode", "admin1_name", "releasability"),
        vocab={"admin2_pcode": ADMIN2, "admin1_pcode": ADMIN1},
    ),
    MartSpec(
        name="dim_dates",
        key="date_day",
        columns=(
            "date_day",
            "week_start",
            "month_start",
            "year_number",
            "iso_year",
            "iso_week",
            "iso_day_of_week",
            "day_name",
            "is_weekend",
        ),
        dates=("date_day",),
        implicit_releasability="public",
    ),
    MartSpec(
        name="normalisation_issues",
        key="issue_id",
        columns=(
            "issue_id",
            "stage",
            "entity",
            "feed_id",
            "agency_id",
            "record_key",
            "record_id",
            "event_id",
            "field",
            "reason",
            "value",
            "is_excluded",
            "releasability",
            "flagged_at",
        ),
        times=("flagged_at",),
        vocab={"agency_id": AGENCY},
        accepted={"stage": ("ingest", "normalise")},
        # `value` is the offending value as sent: any text at all, including names.
        mission_only=("value",),
    ),
    MartSpec(
        name="coordination_agency_timeliness",
        key="timeliness_id",
        columns=(
            "timeliness_id",
            "agency_id",
            "week_start",
            "event_count",
            "report_count",
            "correction_count",
            "retraction_count",
            "lag_hours_median",
            "lag_hours_p90",
            "record_count",
            "complete_record_count",
            "complete_share",
            "records_read",
            "records_quarantined",
            "quarantine_rate",
            "source_event_ids",
            "source_count",
            "content_releasability",
            "releasability",
        ),
        vocab={"agency_id": AGENCY},
        accepted={"content_releasability": RELEASABILITY},
        content=("source_event_ids",),
    ),
    MartSpec(
        name="coordination_quarantine_counts",
        key="quarantine_count_id",
        columns=(
            "quarantine_count_id",
            "week_start",
            "agency_id",
            "feed_id",
            "stage",
            "reason",
            "record_count",
            "excluded_record_count",
            "content_releasability",
            "releasability",
        ),
        not_null=("feed_id", "stage", "reason", "record_count"),
        vocab={"agency_id": AGENCY},
        accepted={"stage": ("ingest", "normalise"), "content_releasability": RELEASABILITY},
    ),
    MartSpec(
        name="coordination_coverage_gaps",
        key="area_pcode",
        columns=(
            "area_pcode",
            "admin_level",
            "admin2_pcode",
            "admin1_pcode",
            "admin0_pcode",
            "gap_days",
            "incident_count",
            "uncovered_incident_count",
            *GAP_CONTENT,
            "source_count",
            "content_releasability",
            "releasability",
        ),
        times=("first_uncovered_at", "last_uncovered_at", "last_delivery_at"),
        vocab={"admin2_pcode": ADMIN2, "admin1_pcode": ADMIN1, "admin0_pcode": "admin0_pcode"},
        accepted={"admin_level": ADMIN_LEVELS, "content_releasability": RELEASABILITY},
        content=GAP_CONTENT,
        hxl={
            "area_pcode": "#adm+code",
            "admin_level": "#adm+level",
            "admin2_pcode": "#adm2+code",
            "admin1_pcode": "#adm1+code",
            "admin0_pcode": "#country+code",
            "gap_days": "#indicator+gap_days+num",
            "incident_count": "#event+num",
            "uncovered_incident_count": "#event+uncovered+num",
            "uncovered_fatalities": "#affected+killed+uncovered",
            "first_uncovered_at": "#date+uncovered+first",
            "last_uncovered_at": "#date+uncovered+last",
            "last_delivery_at": "#date+delivery+last",
            "incident_ids": "#event+code+list",
            "source_event_ids": "#meta+events",
            "source_count": "#meta+sources+num",
            "content_releasability": "#meta+releasability+content",
            "releasability": "#meta+releasability",
        },
    ),
    MartSpec(
        name="coordination_deconfliction",
        key="deconfliction_id",
        columns=(
            "deconfliction_id",
            "patrol_id",
            "delivery_id",
            "patrol_agency_id",
            "delivery_agency_id",
            "organisation_name",
            "patrol_started_at",
            "patrol_ended_at",
            "delivered_at",
            "delivery_time_precision",
            "distance_km",
            "hours_apart",
            "admin2_pcode",
            "source_event_ids",
            "source_count",
            "releasability",
        ),
        times=("patrol_started_at", "patrol_ended_at", "delivered_at"),
        not_null=("delivered_at",),
        vocab={"patrol_agency_id": AGENCY, "delivery_agency_id": AGENCY, "admin2_pcode": ADMIN2},
        accepted={"delivery_time_precision": TIME_PRECISIONS},
    ),
    MartSpec(
        name="coordination_duplication",
        key="duplication_id",
        columns=(
            "duplication_id",
            "area_pcode",
            "admin_level",
            "admin2_pcode",
            "admin1_pcode",
            "admin0_pcode",
            "cluster_code",
            "cluster_name",
            "week_start",
            "organisation_count",
            "organisations",
            "present_organisations",
            "delivery_count",
            "beneficiaries",
            "delivery_ids",
            "presence_ids",
            "source_event_ids",
            "source_count",
            "releasability",
        ),
        not_null=("area_pcode",),
        vocab={
            "admin2_pcode": ADMIN2,
            "admin1_pcode": ADMIN1,
            "admin0_pcode": "admin0_pcode",
            "cluster_code": "cluster_code",
        },
        accepted={"admin_level": ADMIN_LEVELS},
    ),
)

MARTS_BY_NAME = {m.name: m for m in MARTS}
FACTS = ("fct_incidents", "fct_aid_deliveries", "fct_patrols", "fct_operational_presence")
# Folded intermediate models: every event of a record, and whether it left the facts.
FOLDED = (
    "int_incidents_folded",
    "int_deliveries_folded",
    "int_patrols_folded",
    "int_presence_folded",
)
