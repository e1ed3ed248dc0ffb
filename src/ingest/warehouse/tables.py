"""The registry and the country packs as Arrow tables, for the warehouse's `registry` and
`pack` schemas (dbt sources; see dbt_project/models/staging/_sources.yml). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from ingest.feeds.registry import Feed, RecordKey, Registry
from ingest.feeds.schedule import expected_interval
from ingest.releasability import RELEASABILITY
from ingest.warehouse.country_pack import CountryPack, combined


def strictest(levels: Sequence[str]) -> str:
    return max(levels, key=RELEASABILITY.index) if levels else "restricted"


def record_key(feed: Feed) -> str:
    """How the feed's records are identified, in words the catalogue shows."""
    key = feed.mapping.record_id
    if key == "content":
        return "content hash (the feed has no record id: every distinct row is a record)"
    if isinstance(key, RecordKey):
        return "columns " + " + ".join(key.all)
    return "column " + " or ".join(key)


def registry_tables(registry: Registry, now: datetime | None = None) -> dict[str, pa.Table]:
    now = now or datetime.now(UTC)
    feeds = registry.feeds
    by_agency = {a.id: [f for f in feeds if f.agency == a.id] for a in registry.agencies}
    agencies = pa.table(
        {
            "agency_id": [a.id for a in registry.agencies],
            "agency_name": [a.name for a in registry.agencies],
            "agency_acronym": [a.acronym for a in registry.agencies],
            "agency_kind": [a.kind for a in registry.agencies],
            "is_humanitarian": [a.humanitarian for a in registry.agencies],
            "is_military": [a.is_military for a in registry.agencies],
            "reporting_reliability": pa.array(
                [a.reliability for a in registry.agencies], pa.float64()
            ),
            "default_releasability": [
                strictest([f.releasability for f in by_agency[a.id]]) for a in registry.agencies
            ],
        },
        schema=pa.schema(
            [
                ("agency_id", pa.string()),
                ("agency_name", pa.string()),
                ("agency_acronym", pa.string()),
                ("agency_kind", pa.string()),
                ("is_humanitarian", pa.bool_()),
                ("is_military", pa.bool_()),
                ("reporting_reliability", pa.float64()),
                ("default_releasability", pa.string()),
            ]
        ),
    )
    feed_table = pa.table(
        {
            "feed_id": pa.array([f.id for f in feeds], pa.string()),
            "agency_id": pa.array([f.agency for f in feeds], pa.string()),
            "feed_name": pa.array([f.name for f in feeds], pa.string()),
            "entity": pa.array([f.entity for f in feeds], pa.string()),
            "kind": pa.array([f.kind for f in feeds], pa.string()),
            "format": pa.array([f.format for f in feeds], pa.string()),
            "schedule": pa.array([f.schedule for f in feeds], pa.string()),
            "expected_interval_hours": pa.array(
                [expected_interval(f, now).total_seconds() / 3600 for f in feeds], pa.float64()
            ),
            "default_releasability": pa.array([f.releasability for f in feeds], pa.string()),
            "classification_field": pa.array(
                [f.mapping.releasability_field for f in feeds], pa.string()
            ),
            "record_key": pa.array([record_key(f) for f in feeds], pa.string()),
            "country": pa.array([f.country for f in feeds], pa.string()),
        }
    )
    codes = [
        (f.id, field, term, code)
        for f in feeds
        for field, terms in f.codes.items()
        for term, code in terms.items()
    ]
    overrides = pa.table(
        {
            "feed_id": pa.array([c[0] for c in codes], pa.string()),
            "field": pa.array([c[1] for c in codes], pa.string()),
            "source_term": pa.array([c[2] for c in codes], pa.string()),
            "code": pa.array([c[3] for c in codes], pa.string()),
        }
    )
    return {"agencies": agencies, "feeds": feed_table, "code_overrides": overrides}


def _text_table(rows: list[dict[str, str]], columns: Sequence[str]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) or None for r in rows], pa.string()) for c in columns})


def pack_tables(packs: Sequence[CountryPack]) -> dict[str, pa.Table]:
    admin0 = _text_table(
        combined(packs, "admin0"), ("admin0_pcode", "iso3", "admin0_name", "alt_names")
    )
    admin1 = _text_table(
        combined(packs, "admin1"),
        ("admin1_pcode", "admin1_name", "admin0_pcode", "alt_names", "wkt"),
    )
    admin2 = _text_table(
        combined(packs, "admin2"),
        ("admin2_pcode", "admin2_name", "admin1_pcode", "alt_names", "wkt"),
    )
    place_rows = combined(packs, "places")
    places = _text_table(place_rows, ("place_id", "place_name", "alt_names", "admin2_pcode"))
    places = places.add_column(
        3, "latitude", pa.array([float(r["latitude"]) for r in place_rows], pa.float64())
    ).add_column(
        4, "longitude", pa.array([float(r["longitude"]) for r in place_rows], pa.float64())
    )
    rejected = combined(packs, "name_rejections")
    rejections = pa.table(
        {
            "name": pa.array([r["name"] for r in rejected], pa.string()),
            "admin_level": pa.array([int(r["admin_level"]) for r in rejected], pa.int32()),
            "pcode": pa.array([r["pcode"] for r in rejected], pa.string()),
        }
    )
    return {
        "admin0": admin0,
        "admin1": admin1,
        "admin2": admin2,
        "places": places,
        "name_rejections": rejections,
    }
