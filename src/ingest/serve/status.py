"""Feed freshness and the published version, for `peaceops status` and the warehouse DAG.

Pure functions over what the log and the state files already say: commit
records (the truth about loads), the last pull attempt per feed
(`state/pulls/<feed>.json`), and `published/current/manifest.json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.feeds.registry import Feed
from ingest.feeds.schedule import expected_interval
from ingest.log.eventlog import Commit, EventLog
from ingest.paths import state_dir
from ingest.publish.reader import current_manifest
from ingest.settings import PROJECT_DIR

# A feed is stale when its last successful pull is older than this many intervals.
STALE_AFTER_INTERVALS = 2


@dataclass
class FeedStatus:
    feed_id: str
    agency_id: str
    schedule: str
    last_pull_at: str | None
    last_pull_ok: bool | None
    last_error: str | None
    # the last pull's notes: files set aside or left alone, empty files, blank rows
    last_notes: list[str]
    last_load_id: str | None
    last_load_at: str | None
    last_event_recorded_at: str | None
    events: int
    quarantined: int
    lag_seconds: float | None
    interval_seconds: float
    is_stale: bool


def feed_status(
    feed: Feed, commits: list[Commit], pull: dict[str, Any] | None, now: datetime
) -> FeedStatus:
    """Freshness of one feed. Lag is the time since the last successful pull beyond one interval."""
    loads = [c for c in commits if c.kind == "load"]
    interval = expected_interval(feed, now)
    with_events = [c for c in loads if c.counts.get("appended", 0) > 0]
    last_ok = None
    if pull and pull.get("ok"):
        last_ok = datetime.fromisoformat(pull["finished_at"])
    elif loads:
        last_ok = datetime.fromisoformat(loads[-1].committed_at)
    lag = None if last_ok is None else max(0.0, (now - last_ok - interval).total_seconds())
    stale = last_ok is None or now - last_ok > STALE_AFTER_INTERVALS * interval
    return FeedStatus(
        feed_id=feed.id,
        agency_id=feed.agency,
        schedule=feed.schedule,
        last_pull_at=pull.get("finished_at") if pull else None,
        last_pull_ok=pull.get("ok") if pull else None,
        last_error=pull.get("error") if pull else None,
        last_notes=list(pull.get("notes") or []) if pull else [],
        last_load_id=loads[-1].load_id if loads else None,
        last_load_at=loads[-1].committed_at if loads else None,
        last_event_recorded_at=with_events[-1].recorded_at if with_events else None,
        events=sum(c.counts.get("appended", 0) for c in loads),
        quarantined=sum(c.counts.get("quarantined", 0) for c in loads),
        lag_seconds=lag,
        interval_seconds=interval.total_seconds(),
        is_stale=stale,
    )


def read_pull(root: Path, feed_id: str) -> dict[str, Any] | None:
    path = state_dir(root) / "pulls" / f"{feed_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


# The benchmark's latest freshness figure (bench.warehouse writes it; absent outside a
# source tree that ran the benchmark).
BENCH_FRESHNESS = PROJECT_DIR / "bench" / "results" / "freshness.json"


def freshness(manifest: dict[str, Any] | None) -> dict[str, Any]:
    """How fresh publishing is: the benchmark's latest figure (a report dropped into an
    inbox until published, on a warehouse of its size), and for the current version the
    seconds from its newest load's commit to its publishing."""
    out: dict[str, Any] = {"bench": None, "published_after_commit_s": None}
    if BENCH_FRESHNESS.exists():
        out["bench"] = json.loads(BENCH_FRESHNESS.read_text())
    marks = (manifest or {}).get("event_high_water_marks") or {}
    commits = [m["committed_at"] for m in marks.values() if m.get("committed_at")]
    if commits and manifest and manifest.get("created_at"):
        newest = max(datetime.fromisoformat(c) for c in commits)
        created = datetime.fromisoformat(manifest["created_at"])
        out["published_after_commit_s"] = round((created - newest).total_seconds(), 1)
    return out


def status(root: Path, feeds: list[Feed], now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    log = EventLog(root)
    commits = log.commits()
    return {
        "generated_at": now.isoformat(),
        "data_dir": str(root),
        "feeds": [
            asdict(
                feed_status(
                    f, [c for c in commits if c.feed_id == f.id], read_pull(root, f.id), now
                )
            )
            for f in feeds
        ],
        "published": (manifest := current_manifest(root)),
        "freshness": freshness(manifest),
        "unreadable_commits": {
            str(path): reason for path, reason in log.unreadable_commits().items()
        },
    }
