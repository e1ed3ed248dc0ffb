"""Ingest: pull a feed, land the bytes, decode, compute envelopes, append one load.

One feed's failure never touches another feed's data: each feed is its own
load under its own lock, and `ingest_all` carries on past a broken feed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from ingest.decode import Decoded, DecodeError, Reject, decode
from ingest.envelope import envelope_sql
from ingest.eventlog import QUARANTINE_SCHEMA, Commit, Counts, EventLog, Load
from ingest.landing import land
from ingest.paths import state_dir
from ingest.registry import Feed

log = logging.getLogger(__name__)

Progress = Callable[[str, Counts], None]


@dataclass
class FeedResult:
    feed_id: str
    counts: Counts = field(default_factory=Counts)
    load_id: str | None = None
    error: str | None = None
    sources: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def decode_options(feed: Feed) -> dict:
    options = dict(feed.decode_options)
    if feed.kind == "http_json":
        # An API page wraps its records: {"data": [...], "next_cursor": ..., "has_more": ...}
        options.setdefault("records_path", "data")
    return options


def rejects_table(decoded: Decoded, sha: str, load: Load) -> pa.Table:
    n = len(decoded.rejects)
    return pa.table(
        {
            "load_id": [load.load_id] * n,
            "source_ref": [f"{sha}#{r.pos}" for r in decoded.rejects],
            "raw": [r.raw for r in decoded.rejects],
            "reason": [r.reason for r in decoded.rejects],
            "message": [r.message for r in decoded.rejects],
            "quarantined_at": pa.array([load.recorded_at] * n, pa.timestamp("us", tz="UTC")),
        },
        schema=QUARANTINE_SCHEMA,
    )


def add_payload(load: Load, feed: Feed, name: str, data: bytes, fmt: str) -> Counts:
    """Land one payload and append its records to the open load."""
    sha, _ = land(load.log.root, feed.id, data)
    source = {"sha256": sha, "name": name, "bytes": len(data)}
    try:
        decoded = decode(data, fmt, decode_options(feed))
    except DecodeError as err:
        # The whole payload is unreadable: one quarantine row keeps it visible, and
        # the landed bytes allow a re-derive once the decoder learns the format.
        raw = data[:2000].decode("utf-8", "replace")
        decoded = Decoded(
            records=pa.table({"_pos": pa.array([], pa.string())}),
            rejects=[Reject("file", raw, "undecodable_file", str(err))],
            encoding=None,
        )
    sql = envelope_sql(
        feed, decoded.records.column_names, "batch", source_sha256=sha, load_id=load.load_id
    )
    return load.add(sql, decoded.records, source=source, rejects=rejects_table(decoded, sha, load))


def ingest_feed(
    feed: Feed,
    root: Path,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> FeedResult:
    """Pull everything new from one feed into one atomic load."""
    from ingest.connectors import pull

    env = os.environ if env is None else env
    eventlog = EventLog(root)
    result = FeedResult(feed.id)
    started = datetime.now(UTC)
    try:
        with eventlog.begin(feed.id, now) as load:
            result.load_id = load.load_id
            seen = eventlog.committed_sources(feed.id)
            cursor = eventlog.last_cursor(feed.id)
            for pulled in pull(feed, cursor, env):
                cursor = pulled.cursor if pulled.cursor is not None else cursor
                if feed.kind == "file_drop" and hashlib.sha256(pulled.data).hexdigest() in seen:
                    continue
                add_payload(load, feed, pulled.name, pulled.data, pulled.fmt)
                result.sources += 1
                if progress:
                    progress(feed.id, load.counts)
            result.counts = load.counts
            commit = load.commit(cursor)
            if commit is None:
                result.load_id = None
    except Exception as err:  # one feed's failure is reported, never spread
        log.exception("feed %s failed", feed.id)
        result.error = f"{type(err).__name__}: {err}"
    _record_pull(root, feed.id, started, result)
    return result


def _record_pull(root: Path, feed_id: str, started: datetime, result: FeedResult) -> None:
    """Remember the last pull attempt for `peaceops status` (not part of the log)."""
    folder = state_dir(root) / "pulls"
    folder.mkdir(parents=True, exist_ok=True)
    info = {
        "feed_id": feed_id,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "ok": result.ok,
        "error": result.error,
        "load_id": result.load_id,
        "counts": asdict(result.counts),
    }
    tmp = folder / f".{feed_id}.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(folder / f"{feed_id}.json")


def ingest_all(
    feeds: list[Feed],
    root: Path,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> list[FeedResult]:
    return [ingest_feed(f, root, env=env, now=now, progress=progress) for f in feeds]


def last_commit(root: Path, feed_id: str) -> Commit | None:
    commits = EventLog(root).commits(feed_id)
    return commits[-1] if commits else None
