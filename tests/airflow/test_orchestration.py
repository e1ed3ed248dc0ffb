"""What the Airflow tasks call (the stages, and the policy beside the DAGs), without
Airflow: fast."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from peaceops_policy import ingest_summary, recorded_at_for

from ingest import stages
from ingest.feeds.registry import parse_registry
from ingest.serve.status import status
from ingest.settings import Settings
from ingest.stages import FeedFailed, compact, digest_window, ingest
from tests.conftest import TEST_FEED_YAML

HTTP_FEED_YAML = """
  - id: other.api
    agency: other
    kind: http_json
    format: json
    location: "${PEACEOPS_FEEDS_URL:-http://127.0.0.1:9}/api/v1/other.api/records"
    auth_url: "${PEACEOPS_FEEDS_URL:-http://127.0.0.1:9}/auth/token"
    schedule: "@hourly"
    releasability: mission
    schema_version: 1
    entity: none
    credentials: {env: PEACEOPS_OTHER_CREDENTIALS}
    mapping:
      record_id: [id]
      occurred_at: {fields: [when], format: iso}
      event_types: {reported: o.reported, corrected: o.corrected, retracted: o.retracted}
"""


@pytest.fixture
def project(tmp_path: Path) -> dict[str, str]:
    """A registry with a file-drop feed and a broken HTTP feed, and the env naming it."""
    feeds = tmp_path / "feeds.yaml"
    agencies = TEST_FEED_YAML.replace(
        "agencies:\n", "agencies:\n  - {id: other, name: Other, kind: NGO}\n"
    )
    feeds.write_text(agencies + HTTP_FEED_YAML)
    root = tmp_path / "data"
    return {"PEACEOPS_FEEDS": str(feeds), "PEACEOPS_DATA_DIR": str(root)}


def drop(env: dict[str, str], name: str, text: str) -> None:
    inbox = Path(env["PEACEOPS_DATA_DIR"]) / "inbox" / "test.reports"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_text(text)


CSV_1 = "id,when,replaces,status,text\n1,2026-11-01T10:00Z,,,a\n2,2026-11-01T11:00Z,,,b\n,2026-11-01,,,no id\n"
CSV_2 = "id,when,replaces,status,text\n3,2026-11-02T10:00Z,,,c\n4,not a date,,,d\n"


def run_ingest(feed_id: str, env: dict[str, str], now: datetime | None = None) -> dict:
    """The ingest task's work, as the DAG does it."""
    settings = Settings.resolve(env)
    (result,) = ingest(settings, feed_id, now=now, strict=True)
    return ingest_summary(settings, result)


def compacted(root: Path, feed_ids: list[str]) -> dict[str, int]:
    done = compact(Settings.resolve(data_dir=root), feed_ids, strict=True)
    return {c.feed_id: len(c.commit.removes) if c.commit else 0 for c in done}


def test_recorded_at_is_now_unless_backfill_or_asked():
    end = datetime(2026, 11, 20, 6, tzinfo=UTC)
    assert recorded_at_for("scheduled", end) is None
    assert recorded_at_for("manual", end) is None
    assert recorded_at_for("backfill", end) == end
    asked = recorded_at_for("scheduled", end, "2026-11-19T12:00Z")
    assert asked == datetime(2026, 11, 19, 12, tzinfo=UTC)
    assert recorded_at_for(None, None, "2026-11-19T12:00") == asked


def test_run_ingest_appends_one_load_a_rerun_nothing_and_records_at_now(project):
    drop(project, "a.csv", CSV_1)
    first = run_ingest("test.reports", env=project)
    assert first["load_id"] and "test.reports" in first["load_id"]
    assert first["counts"] == {"read": 3, "appended": 2, "duplicates": 0, "quarantined": 1}
    assert run_ingest("test.reports", env=project)["load_id"] is None
    drop(project, "b.csv", CSV_2)
    then = datetime(2026, 11, 2, 18, tzinfo=UTC)
    replay = run_ingest("test.reports", env=project, now=then)
    assert datetime.fromisoformat(replay["recorded_at"]) == then


def test_a_broken_feed_raises_and_shows_as_failing_while_others_load(project):
    drop(project, "a.csv", CSV_1)
    with pytest.raises(FeedFailed, match=r"other\.api"):
        run_ingest("other.api", env=project)  # no credentials: fails before any request
    assert run_ingest("test.reports", env=project)["load_id"]
    root = Path(project["PEACEOPS_DATA_DIR"])
    feeds = list(parse_registry(Path(project["PEACEOPS_FEEDS"]).read_text(), {}, root).feeds)
    report = {f["feed_id"]: f for f in status(root, feeds)["feeds"]}
    assert report["other.api"]["last_pull_ok"] is False
    assert report["other.api"]["is_stale"]
    assert "credentials" in report["other.api"]["last_error"]
    assert not report["test.reports"]["is_stale"]


def test_compaction_merges_each_feeds_files(project):
    drop(project, "a.csv", CSV_1)
    run_ingest("test.reports", env=project)
    drop(project, "b.csv", CSV_2)
    run_ingest("test.reports", env=project)
    root = Path(project["PEACEOPS_DATA_DIR"])
    merged = compacted(root, ["test.reports", "other.api"])
    assert merged == {"test.reports": 2, "other.api": 0}
    assert compacted(root, ["test.reports"]) == {"test.reports": 0}


def test_digest_window_is_the_day_up_to_the_run():
    midnight = datetime(2026, 11, 27, tzinfo=UTC)
    assert digest_window(midnight) == (midnight - timedelta(days=1), midnight)
    later = midnight + timedelta(hours=9)
    assert digest_window(later) == (midnight, later)


def test_quarantine_digest_counts_by_agency_feed_and_reason(project):
    drop(project, "a.csv", CSV_1)
    run_ingest("test.reports", env=project)
    drop(project, "b.csv", CSV_2)
    run_ingest("test.reports", env=project)
    settings = Settings.resolve(project)
    done = stages.digest(settings, datetime.now(UTC) + timedelta(seconds=1))
    assert done["total"] == 2
    md, js = (Path(p) for p in done["files"])
    assert md.name == f"quarantine-{done['date']}.md" and js.suffix == ".json"
    digest = json.loads(js.read_text())
    reasons = digest["agencies"]["test"]["feeds"]["test.reports"]["reasons"]
    assert {r: v["count"] for r, v in reasons.items()} == {
        "missing_record_id": 1,
        "unreadable_time": 1,
    }
    assert reasons["unreadable_time"]["examples"][0]["raw"]
    assert digest["agencies"]["other"]["total"] == 0
    text = md.read_text()
    assert "## test: 2 quarantined" in text and "`unreadable_time`" in text
    assert "## other: 0 quarantined" in text
    # The window excludes loads committed before it.
    empty = stages.digest(settings, datetime.now(UTC) + timedelta(days=2))
    assert empty["total"] == 0
