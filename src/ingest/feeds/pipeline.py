"""Ingest: pull a feed, land the bytes, decode, compute envelopes, append a load (an
API's pages a load every few pages).

One feed's failure never touches another feed's data: each feed is its own
load under its own lock, and `ingest_all` carries on past a broken feed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from ingest.errors import one_line
from ingest.feeds.connectors.base import Skipped
from ingest.feeds.contract import default_time
from ingest.feeds.decide import decide
from ingest.feeds.decode import POS, Decoded, DecodeError, Reject, decode
from ingest.feeds.envelope import envelope_sql
from ingest.feeds.landing import land, sha256
from ingest.feeds.registry import Feed
from ingest.log.eventlog import QUARANTINE_SCHEMA, SOURCE, Commit, Counts, EventLog, Load
from ingest.paths import private_dir, private_opener, state_dir
from ingest.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str, Counts], None]


def pages_per_load(pages: int | None = None, env: Mapping[str, str] | None = None) -> int:
    """How many pages of a paged pull one load commits: `pages` if given, else the
    settings' of `env` (default: the process's): PEACEOPS_PAGES_PER_LOAD, else 20."""
    if pages is None:
        return Settings.resolve(env).pages_per_load
    if pages < 1:
        raise ValueError(f"pages per load must be at least 1, not {pages}")
    return pages


@dataclass
class FeedResult:
    """What a feed's run committed (counts and loads), and why it failed if it did."""

    feed_id: str
    counts: Counts = field(default_factory=Counts)
    loads: list[str] = field(default_factory=list)
    error: str | None = None
    sources: int = 0
    # What a data engineer should know about the pull that is not an error: files left
    # alone, empty files, blank rows skipped, files set aside (each also in the load).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def load_id(self) -> str | None:
        """The last load committed (None: nothing new, or nothing before a failure)."""
        return self.loads[-1] if self.loads else None


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


@dataclass
class Payload:
    """One pulled payload, landed and decoded, waiting to join a batch."""

    source: dict
    decoded: Decoded
    # the time of its records that carry none (feeds.yaml: a default, or the file name's)
    default_time: datetime | None = None

    @property
    def sha256(self) -> str:
        return self.source["sha256"]


def prepare(load: Load, feed: Feed, name: str, data: bytes, fmt: str, sha: str) -> Payload:
    """Land one payload (`sha` is its sha256) and decode it. The landing (writing and
    fsync: mostly waiting on the disk) runs beside the decoding, and is done when this
    returns."""
    with ThreadPoolExecutor(1, thread_name_prefix="land") as pool:
        landing = pool.submit(land, load.log.root, feed.id, data, sha)
        decoded = decode_or_reject(data, fmt, feed)
        landing.result()
    source: dict = {"sha256": sha, "name": name, "bytes": len(data)}
    if decoded.blank_rows:
        source["blank_rows"] = decoded.blank_rows
    return Payload(source, decoded, default_time(feed.mapping.occurred_at, name))


def set_aside(reason: str, message: str, raw: str) -> Decoded:
    """A payload none of whose records can become events: one quarantine row keeps it
    visible, and its landed bytes allow a re-derive (`peaceops replay`) once the cause
    is fixed."""
    return Decoded(
        records=pa.table({POS: pa.array([], pa.string())}),
        rejects=[Reject("file", raw, reason, message)],
    )


def decode_or_reject(data: bytes, fmt: str, feed: Feed) -> Decoded:
    """The payload's records; a payload unreadable as a whole, or without a column the
    feed's contract needs, becomes one reject."""
    try:
        decoded = decode(data, fmt, decode_options(feed))
    except DecodeError as err:
        return set_aside("undecodable_file", str(err), data[:2000].decode("utf-8", "replace"))
    problem = missing_columns(feed, decoded.records.column_names)
    if problem and decoded.records.num_rows:
        return set_aside("missing_column", problem, data[:2000].decode("utf-8", "replace"))
    return decoded


def missing_columns(feed: Feed, columns: list[str]) -> str | None:
    """Which column the contract maps that the payload lacks, naming what it has; None
    when it has every one it needs (feeds.yaml's alternatives: any one will do)."""
    present = [c for c in columns if c != POS]
    for field_name, alternatives in feed.required_columns():
        if not any(a in present for a in alternatives):
            wanted = " or ".join(f"'{a}'" for a in alternatives)
            return (
                f"no column {wanted} ({field_name} in feeds.yaml) in this file; "
                f"its columns: {', '.join(present) or '(none)'}"
            )
    return None


def add_payloads(load: Load, feed: Feed, payloads: list[Payload]) -> Counts:
    """Append the records of payloads with the same columns to the open load, in one
    batch: each batch has a fixed cost (a Parquet file, the duplicate check), which
    small daily files would otherwise pay one by one."""
    rejects = pa.concat_tables([rejects_table(p.decoded, p.sha256, load) for p in payloads])
    source: dict | list[dict]  # a payload's, or one per payload of the batch
    if len(payloads) == 1:
        (one,) = payloads
        records, source_sha256, source = one.decoded.records, one.sha256, one.source
    else:
        records = pa.concat_tables(
            [
                p.decoded.records.append_column(
                    SOURCE, pa.array([p.sha256] * p.decoded.records.num_rows, pa.string())
                )
                for p in payloads
            ]
        )
        source_sha256, source = None, [p.source for p in payloads]
    sql = envelope_sql(
        feed,
        records.column_names,
        "batch",
        source_sha256=source_sha256,
        load_id=load.load_id,
        default_time=payloads[0].default_time,
    )
    return load.store(decide(sql), records, source=source, rejects=rejects)


class Batcher:
    """Gathers payloads into batches of up to BATCH_ROWS records. A batch holds payloads
    with the same columns only (each record's stored payload names its file's columns),
    the same default time (an undated record's, maybe from its file's name) and distinct
    bytes (a payload's counts are kept by its sha256)."""

    BATCH_ROWS = 100_000

    def __init__(self, load: Load, feed: Feed, progress: Progress | None):
        self.load, self.feed, self.progress = load, feed, progress
        self.pending: list[Payload] = []
        self.rows = 0
        self.notes: list[str] = []

    def add(self, payload: Payload) -> None:
        first = self.pending[0] if self.pending else None
        if first and (
            payload.decoded.records.column_names != first.decoded.records.column_names
            or payload.default_time != first.default_time
            or any(p.sha256 == payload.sha256 for p in self.pending)
        ):
            self.flush()
        self.pending.append(payload)
        self.rows += payload.decoded.records.num_rows
        if self.rows >= self.BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        try:
            add_payloads(self.load, self.feed, self.pending)
        except Exception as err:  # one file that breaks must not stop the others
            if len(self.pending) == 1:
                self._set_aside(self.pending[0], err)
            else:
                log.warning(
                    "feed %s: a batch failed (%s); adding its files one by one",
                    self.feed.id,
                    one_line(err),
                )
                for payload in self.pending:
                    self._add_alone(payload)
        self.pending, self.rows = [], 0
        if self.progress:
            self.progress(self.feed.id, self.load.counts)

    def _add_alone(self, payload: Payload) -> None:
        try:
            add_payloads(self.load, self.feed, [payload])
        except Exception as err:
            self._set_aside(payload, err)

    def _set_aside(self, payload: Payload, err: Exception) -> None:
        log.warning("feed %s: file %s set aside: %s", self.feed.id, payload.source["name"], err)
        self.notes.append(f"{payload.source['name']}: set aside, unloadable_file: {one_line(err)}")
        records = payload.decoded.records
        raw = f"{payload.source['name']}: {records.num_rows} records, columns: " + ", ".join(
            c for c in records.column_names if c != POS
        )
        aside = Payload(payload.source, set_aside("unloadable_file", one_line(err), raw[:2000]))
        add_payloads(self.load, self.feed, [aside])


def ingest_feed(
    feed: Feed,
    root: Path,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    lock_timeout: float | None = None,
    pages: int | None = None,
) -> FeedResult:
    """Pull everything new from one feed into one load, or for a paged pull (an API's
    pages, each with its cursor) into a load every `pages` pages (see
    `pages_per_load`): a pull that fails at page 46 of 53 keeps the 40 pages
    committed before it, and the next run resumes from their cursor. Files are
    committed in one load: a failed run re-reads them from the inbox, and smaller
    loads of small daily files cost more than that saves.

    A run of the same feed in progress is waited for up to `lock_timeout` seconds (see
    eventlog.lock_timeout). Any failure is the feed's alone: it ends in
    `FeedResult.error`, one line, never in an exception."""
    env = os.environ if env is None else env
    result = FeedResult(feed.id)
    started = datetime.now(UTC)
    try:
        per_load = pages_per_load(pages, env)
        with EventLog(root).begin(feed.id, now, lock_timeout) as load:
            _pull(load, feed, env, result, per_load, progress)
    except Exception as err:  # one feed's failure is reported, never spread
        result.error = one_line(err)
        log.error("feed %s failed: %s", feed.id, result.error)
        log.debug("feed %s failed", feed.id, exc_info=True)
    record_pull(root, feed.id, started, result)
    return result


def payload_notes(payload: Payload) -> list[str]:
    """What the summary says of one payload beyond its counts."""
    name, decoded = payload.source["name"], payload.decoded
    notes = []
    if decoded.records.num_rows == 0 and not decoded.rejects:
        notes.append(f"{name}: empty file (no records; a header at most)")
    if decoded.blank_rows:
        notes.append(f"{name}: {decoded.blank_rows:,} blank rows skipped (no value in any column)")
    for reject in decoded.rejects:
        if reject.pos == "file":
            notes.append(f"{name}: set aside, {reject.reason}: {reject.message}")
    return notes


def _pull(
    load: Load,
    feed: Feed,
    env: Mapping[str, str],
    result: FeedResult,
    per_load: int,
    progress: Progress | None,
) -> None:
    """Pull into `load`, committing every `per_load` pages and at the end."""
    from ingest.feeds.connectors import pull

    seen = load.log.committed_sources(feed.id)
    cursor = load.log.last_cursor(feed.id)

    def so_far(feed_id: str, counts: Counts) -> None:  # the run's, not just this load's
        if progress is not None:
            total = Counts()
            total.add(result.counts)
            total.add(counts)
            progress(feed_id, total)

    batcher = Batcher(load, feed, so_far)
    pending = 0  # pages since the last commit (files have no cursor: one load)
    for pulled in pull(feed, cursor, env):
        if isinstance(pulled, Skipped):
            result.notes.append(f"{pulled.name}: skipped, {pulled.reason}")
            continue
        paged = pulled.cursor is not None
        cursor = pulled.cursor if paged else cursor
        sha = sha256(pulled.data)
        if feed.kind == "file_drop" and sha in seen:
            continue
        payload = prepare(load, feed, pulled.name, pulled.data, pulled.fmt, sha)
        # Landed and decoded, the bytes are done with: a large file's would
        # otherwise stay in memory beside its records (1.4 GB at 10M rows).
        del pulled
        result.notes += payload_notes(payload)
        batcher.add(payload)
        result.sources += 1
        pending += int(paged)
        if pending == per_load:
            _commit(load, batcher, cursor, result)
            pending = 0
    _commit(load, batcher, cursor, result)
    result.notes += batcher.notes


def _commit(load: Load, batcher: Batcher, cursor: str | None, result: FeedResult) -> None:
    """Commit what `load` holds with `cursor`, count it in `result`, start the next load."""
    batcher.flush()
    commit = load.commit(cursor)
    if commit is not None:
        result.counts.add(load.counts)
        result.loads.append(commit.load_id)
    load.renew()


def record_pull(root: Path, feed_id: str, started: datetime, result: FeedResult) -> None:
    """Remember the last pull attempt for `peaceops status` (not part of the log).

    A disk that is full or read-only fails this too: the feed's result says so, and
    the other feeds are still tried."""
    info = {
        "feed_id": feed_id,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "ok": result.ok,
        "error": result.error,
        "load_id": result.load_id,
        "counts": asdict(result.counts),
        "notes": result.notes,
    }
    try:
        folder = private_dir(root, state_dir(root) / "pulls")
        tmp = folder / f".{feed_id}.json.tmp"
        with open(tmp, "w", opener=private_opener) as fh:
            fh.write(json.dumps(info, indent=1))
        tmp.replace(folder / f"{feed_id}.json")
    except OSError as err:
        log.error("feed %s: its pull is not recorded for status: %s", feed_id, one_line(err))
        result.error = result.error or f"pull not recorded for status: {one_line(err)}"


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
