"""Replay: re-derive a feed's events from its landed payloads under the current contract.

After a mapping fix in feeds.yaml (a renamed column, a time format, a record key), the
records of files already landed cannot come back through `ingest` (their bytes are
known, so nothing is new). A replay decodes every payload the feed's live loads landed,
computes their envelopes anew, and appends them as one load that retires those loads:
their events and quarantine stop being live from the replay's commit on. Nothing is
deleted: a build as of a moment before the replay still sees the old derivation, and
the replay's own counts reconcile (read = appended + duplicates + quarantined).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ingest.feeds.connectors.file_drop import file_format
from ingest.feeds.pipeline import Batcher, FeedResult, Progress, payload_notes, prepare, record_pull
from ingest.feeds.registry import Feed
from ingest.log.eventlog import EventLog
from ingest.paths import landing_dir


def replay_feed(
    feed: Feed,
    root: Path,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    lock_timeout: float | None = None,
) -> FeedResult:
    """One load re-deriving every live payload of `feed`; retires the loads it replaces."""
    log = EventLog(root)
    result = FeedResult(feed.id)
    started = datetime.now(UTC)
    with log.begin(feed.id, now, lock_timeout) as load:
        retired = set(log.retired(feed.id))
        live = [c for c in log.commits(feed.id) if c.kind in ("load", "replay")]
        live = [c for c in live if c.load_id not in retired]
        if not live:
            result.notes.append("nothing to replay: the feed has no live loads")
            return result
        load.retire([c.load_id for c in live])
        cursor = log.last_cursor(feed.id)
        batcher = Batcher(load, feed, progress)
        seen: set[str] = set()
        for replaced in live:
            for source in replaced.sources:
                sha, name = source["sha256"], source.get("name", source["sha256"])
                if sha in seen:
                    continue
                seen.add(sha)
                path = landing_dir(root) / feed.id / sha
                if not path.exists():
                    result.notes.append(f"{name}: its landed bytes are gone; not replayed")
                    continue
                fmt = file_format(name, feed.format) if feed.kind == "file_drop" else feed.format
                payload = prepare(load, feed, name, path.read_bytes(), fmt, sha)
                result.notes += payload_notes(payload)
                batcher.add(payload)
                result.sources += 1
        batcher.flush()
        result.notes += batcher.notes
        commit = load.commit(cursor)
        if commit is not None:
            result.counts.add(load.counts)
            result.loads.append(commit.load_id)
    record_pull(root, feed.id, started, result)
    return result
