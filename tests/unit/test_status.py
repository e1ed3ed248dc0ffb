"""Feed freshness: lag against the schedule, staleness, counts from commit records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.feeds.schedule import schedule_interval
from ingest.log.eventlog import Commit
from ingest.serve.status import feed_status
from tests.conftest import make_feed

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def commit(at: datetime, appended: int, quarantined: int = 0) -> Commit:
    return Commit(
        load_id=f"{at:%Y%m%dT%H%M%S}.000000Z-test.reports-aaaaaa",
        feed_id="test.reports",
        committed_at=at.isoformat(),
        recorded_at=at.isoformat(),
        files=[],
        quarantine_files=[],
        counts={
            "read": appended + quarantined,
            "appended": appended,
            "duplicates": 0,
            "quarantined": quarantined,
        },
    )


def test_schedule_intervals():
    assert schedule_interval("@hourly", NOW) == timedelta(hours=1)
    assert schedule_interval("@daily", NOW) == timedelta(days=1)
    assert schedule_interval("0 */6 * * *", NOW) == timedelta(hours=6)


def test_fresh_feed_has_no_lag(tmp_path: Path):
    feed = make_feed(tmp_path)  # @daily
    pull = {"ok": True, "finished_at": (NOW - timedelta(hours=3)).isoformat(), "error": None}
    s = feed_status(
        feed,
        [commit(NOW - timedelta(days=3), 10, 2), commit(NOW - timedelta(hours=3), 5)],
        pull,
        NOW,
    )
    assert (s.events, s.quarantined, s.lag_seconds, s.is_stale) == (15, 2, 0.0, False)
    assert s.last_event_recorded_at == (NOW - timedelta(hours=3)).isoformat()


def test_failing_feed_goes_stale_and_shows_its_error(tmp_path: Path):
    feed = make_feed(tmp_path)
    pull = {"ok": False, "finished_at": NOW.isoformat(), "error": "ConnectorError: unreachable"}
    s = feed_status(feed, [commit(NOW - timedelta(days=3), 10)], pull, NOW)
    assert s.is_stale and s.last_pull_ok is False
    assert s.lag_seconds == timedelta(days=2).total_seconds()
    assert "unreachable" in s.last_error


def test_never_pulled_feed_is_stale(tmp_path: Path):
    s = feed_status(make_feed(tmp_path), [], None, NOW)
    assert s.is_stale and s.lag_seconds is None and s.events == 0


def test_freshness_of_the_published_version_and_the_benchs_figure(tmp_path: Path, monkeypatch):
    from ingest.serve import status as module

    figure = tmp_path / "freshness.json"
    monkeypatch.setattr(module, "BENCH_FRESHNESS", figure)
    manifest = {
        "created_at": "2026-11-24T12:01:30+00:00",
        "event_high_water_marks": {
            "a.b": {"committed_at": "2026-11-24T12:00:00.000000+00:00"},
            "c.d": {"committed_at": "2026-11-24T11:00:00.000000+00:00"},
        },
    }
    assert module.freshness(manifest) == {"bench": None, "published_after_commit_s": 90.0}
    figure.write_text('{"seconds": 80.5, "events": 1000000}')
    assert module.freshness(None)["bench"] == {"seconds": 80.5, "events": 1000000}
