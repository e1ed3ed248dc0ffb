"""Real public files (tests/fixtures/real) added as feeds.yaml entries alone, beside the
simulated agencies: a 3W CSV, an ACLED export, IATI XML and an IOM DTM sheet reach the
marts at their admin levels and a published version, with the real country packs of
Haiti and Ethiopia. A broken new feed and a raw one are held back; the others publish.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from ingest.feeds.registry import load_registry
from ingest.gate import run_gate
from ingest.lab.demo import ingest_simulation
from ingest.lab.simulate import simulate
from ingest.publish.reader import current_version
from ingest.publish.writer import publish
from ingest.warehouse.runner import build, warehouse_path

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "fixtures" / "real"
FILES = {
    "acled.ethiopia_events": "acled_sample_ethiopia_2022.csv",
    "acled.haiti_events": "acled_haiti_2024_derived_first55.csv",
    "ocha_eth.presence_4w": "ocha_4w_ethiopia_2025_08.csv",
    "unhcr.presence_3w": "unhcr_3w_hxl_2014_multicountry.csv",
    "dfid.iati_activities": "iati_activities_dfid_haiti_first5.xml",
    "iom.dtm_haiti_sites": "dtm_haiti_camps_2013_hxl.csv",
    # a new feed whose mapping names a column its file does not have...
    "broken.reports": "acled_sample_ethiopia_2022.csv",
    # ...and one kept raw
    "raw.idp_estimates": "idp_estimates_ethiopia_woreda_hxl.csv",
}
EXTRA = """
agencies:
  - {id: broken, name: A new agency, kind: NGO}
  - {id: raw, name: OCHA Ethiopia estimates, kind: UN}
feeds:
  - id: broken.reports
    agency: broken
    name: A feed mapped with a typo in a column name
    kind: file_drop
    format: csv
    location: real/broken.reports
    schedule: "@daily"
    releasability: public
    schema_version: 1
    entity: incident
    mapping:
      record_id: [event_id_cnty]
      occurred_at: {fields: [event_dat], format: iso}
  - id: raw.idp_estimates
    agency: raw
    name: IDP estimates by woreda (kept raw)
    kind: file_drop
    format: hxl
    location: real/raw.idp_estimates
    schedule: "@monthly"
    releasability: public
    schema_version: 1
    entity: none
    mapping:
      record_id: content
      occurred_at: {default: "2022-06"}
"""


def registry_file(root: Path) -> Path:
    """The project's feeds.yaml plus the real feeds' entries (and two more): what a data
    engineer's feeds.yaml looks like after adding them."""
    demo = yaml.safe_load((REPO / "feeds.yaml").read_text())
    real = yaml.safe_load((REAL / "feeds.yaml").read_text())
    extra = yaml.safe_load(EXTRA)
    demo["country_pack"] = [
        str(REPO / "packs" / "carana"),
        *(str((REAL / p).resolve()) for p in real["country_pack"]),
    ]
    demo["mission"]["start"] = real["mission"]["start"]
    demo["agencies"] += real["agencies"] + extra["agencies"]
    demo["feeds"] += real["feeds"] + extra["feeds"]
    path = root / "feeds.yaml"
    path.write_text(yaml.safe_dump(demo, allow_unicode=True, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("real")
    simulate(root / "sim", seed=7, days=7, start="2026-10-01")
    feeds_file = registry_file(root)
    for feed_id, name in FILES.items():
        inbox = root / "real" / feed_id
        inbox.mkdir(parents=True)
        shutil.copy(REAL / name, inbox / name)
    # every feed, the simulated agencies' and the real ones, as one ingest run
    results = ingest_simulation(root, feeds_file, now=datetime(2026, 11, 1, tzinfo=UTC))
    assert all(r.ok for r in results), [r.error for r in results]
    results = [r for r in results if r.feed_id in FILES]
    registry = load_registry(feeds_file, root)
    built = build(root, registry=registry)
    assert built.ok, built.failures
    gate = run_gate(root, registry=registry, data_docs=False)
    assert gate.passed, [f.describe() for f in gate.failures]
    version = publish(root, gate)
    return {"root": root, "gate": gate, "version": version, "results": results}


def query(root: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse_path(root)), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def test_every_real_file_is_read_and_reconciles(published: dict) -> None:
    counts = {r.feed_id: r.counts for r in published["results"]}
    assert counts["acled.ethiopia_events"].appended == 7
    assert counts["dfid.iati_activities"].appended == 5
    assert all(c.reconciles for c in counts.values())
    # the broken feed's file is set aside with the column it lacks, not 7 unreadable times
    assert counts["broken.reports"].quarantined == 1 and counts["broken.reports"].read == 1


def test_real_rows_reach_the_facts_at_their_admin_levels(published: dict) -> None:
    root = published["root"]
    incidents = dict(
        query(
            root,
            "SELECT split_part(k, ':', 1) || '@' || i.admin_level, count(*) FROM marts.fct_incidents i, "
            "unnest(i.source_record_keys) t(k) WHERE k NOT LIKE 'unmic%' AND k NOT LIKE 'moi%' "
            "AND k NOT LIKE 'cpn%' GROUP BY 1",
        )
    )
    # ACLED Ethiopia: zones named as in the pack at level 2, the others at level 1
    assert incidents["acled.ethiopia_events@2"] >= 4
    assert incidents.get("acled.ethiopia_events@1", 0) + incidents["acled.ethiopia_events@2"] == 7
    assert incidents["acled.haiti_events@2"] >= 50  # communes, by their French names too
    presence = dict(
        query(
            root,
            "SELECT feed_id || '@' || admin_level, count(*) FROM marts.fct_operational_presence "
            "GROUP BY 1",
        )
    )
    assert presence["ocha_eth.presence_4w@2"] >= 60  # the 3W, by zone
    assert presence["unhcr.presence_3w@0"] >= 40  # a multi-country 3W: Ethiopia, by country
    assert presence["dfid.iati_activities@0"] >= 1  # IATI: country-level activities
    assert presence["iom.dtm_haiti_sites@2"] >= 10  # IOM DTM: sites by commune
    # the 4W's month has no year: the file name's; its period is that month
    assert query(
        root,
        "SELECT DISTINCT reference_period_start, reference_period_end, time_precision "
        "FROM marts.fct_operational_presence WHERE feed_id = 'ocha_eth.presence_4w'",
    ) == [(datetime(2025, 8, 1).date(), datetime(2025, 8, 31).date(), "month")]


def test_what_did_not_normalise_is_listed_with_why(published: dict) -> None:
    reasons = dict(
        query(
            published["root"],
            "SELECT feed_id || ':' || reason, count(*) FROM marts.normalisation_issues "
            "WHERE feed_id IN ('unhcr.presence_3w', 'dfid.iati_activities', 'iom.dtm_haiti_sites', "
            "'broken.reports') GROUP BY 1",
        )
    )
    assert reasons["unhcr.presence_3w:country_not_in_pack"] > 100  # Chad, Cameroon, ...
    assert reasons["dfid.iati_activities:unmapped_code"] >= 1  # a DAC code without cluster
    assert reasons["iom.dtm_haiti_sites:missing_value"] > 50  # sites no agency manages
    assert reasons["broken.reports:missing_column"] == 1


def test_a_broken_and_a_raw_feed_are_held_back_and_the_rest_publishes(published: dict) -> None:
    gate = published["gate"]
    assert set(gate.held_back) == {"raw.idp_estimates"}
    assert "raw feed" in gate.held_back["raw.idp_estimates"]
    version = current_version(published["root"])
    assert version == published["version"]
    con = duckdb.connect(str(version / "public" / "unified.duckdb"), read_only=True)
    try:
        feeds = {
            f
            for (f,) in con.sql("SELECT DISTINCT feed_id FROM fct_operational_presence").fetchall()
        }
        incidents = con.execute("SELECT count(*) FROM fct_incidents").fetchone()[0]
    finally:
        con.close()
    assert {"ocha_eth.presence_4w", "unhcr.presence_3w", "iom.dtm_haiti_sites"} <= feeds
    assert incidents > 60  # simulated and real incidents, published side by side


def test_close_spellings_locate_and_are_listed_for_review(published: dict) -> None:
    rows = query(
        published["root"],
        "SELECT status, field, sent, pcode, rule FROM review.review_name_matches",
    )
    # ACLED's spellings of the pack's Assosa and Saint-Michel de l'Attalaye
    assert ("matched", "admin2", "Asosa", "ET0603", "doubled letters") in rows
    assert ("matched", "admin2", "Saint Michel de l'Atalaye", "HT0551", "doubled letters") in rows
    unmatched = {sent for status, _, sent, _, _ in rows if status == "unmatched"}
    # another name altogether, and a region newer than the pack: left to a reviewer
    assert {"Southern Tigray", "South Ethiopia"} <= unmatched


def test_organisations_present_in_one_cluster_and_zone_are_duplication(published: dict) -> None:
    """The 4W's organisations working in the same cluster and zone in August 2025 are
    duplication of effort, week by week, without any delivery."""
    rows = query(
        published["root"],
        "SELECT week_start, organisation_count, present_organisations, delivery_ids "
        "FROM marts.coordination_duplication WHERE admin0_pcode = 'ET' AND admin_level = 2 "
        "AND week_start BETWEEN DATE '2025-07-28' AND DATE '2025-08-25'",
    )
    assert rows
    assert {week.month for week, *_ in rows} == {7, 8}  # the month's weeks, from 28 July
    assert all(n == len(orgs) >= 2 and not ids for _, n, orgs, ids in rows)
