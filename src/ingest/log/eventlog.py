"""The append-only event log: Hive-partitioned Parquet plus one commit record per load.

Rules (DESIGN.md, "Event sourcing"):
- A load writes its Parquet files and its quarantine file first, then commits
  them by renaming one JSON commit record into `eventlog/_commits/`. Readers see
  only the files that commit records name, so a load is visible whole or not at
  all; a process killed mid-load leaves unreferenced files that the next load
  of that feed deletes.
- Event ids are deterministic, and an append skips ids that are already
  committed (or already written earlier in the same load), so a rerun adds
  nothing.
- Files are never rewritten. Compaction writes a new file and commits it with
  the list of files it replaces (`removes`), in one rename.
- A load is known from its commit (`known_at`): the log's clock (`EventLog.clock`)
  stamps it while the commit record is renamed into place, and a build lists the
  commits under the same clock (`EventLog.snapshot`), so a load stamped at or before a
  build's moment is in what the build reads, and one committed later is stamped after
  it. A back-dated load (`ingest --now`, a backfill) is known from the time it names.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.durable import atomic_write, fsync_dir, holder_lock
from ingest.feeds.envelope import SOURCE
from ingest.paths import (
    PRIVATE_FILE,
    eventlog_dir,
    landing_dir,
    private_dir,
    private_opener,
    quarantine_dir,
    state_dir,
)

# The hub's session factory; the dashboard still imports it from here.
from ingest.sessions import connect

logger = logging.getLogger(__name__)

COMMITS = "_commits"

# How a load writes its event files: zstd at its fastest level.
EVENT_FILE = "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
EVENT_COLUMNS = (
    "event_id",
    "agency_id",
    "event_type",
    "record_id",
    "supersedes",
    "occurred_at",
    "recorded_at",
    "releasability",
    "schema_version",
    "payload",
    "source_ref",
    "load_id",
)
EMPTY_EVENTS_SQL = """
SELECT CAST(NULL AS VARCHAR) AS event_id, CAST(NULL AS VARCHAR) AS feed_id,
       CAST(NULL AS VARCHAR) AS agency_id, CAST(NULL AS VARCHAR) AS event_type,
       CAST(NULL AS VARCHAR) AS record_id, CAST(NULL AS VARCHAR) AS supersedes,
       CAST(NULL AS TIMESTAMPTZ) AS occurred_at, CAST(NULL AS TIMESTAMPTZ) AS recorded_at,
       CAST(NULL AS VARCHAR) AS releasability, CAST(NULL AS INTEGER) AS schema_version,
       CAST(NULL AS VARCHAR) AS payload, CAST(NULL AS VARCHAR) AS source_ref,
       CAST(NULL AS VARCHAR) AS load_id, CAST(NULL AS TIMESTAMPTZ) AS known_at,
       CAST(NULL AS TIMESTAMPTZ) AS retired_at
WHERE false
"""
QUARANTINE_SCHEMA = pa.schema(
    [
        ("load_id", pa.string()),
        ("source_ref", pa.string()),
        ("raw", pa.string()),
        ("reason", pa.string()),
        ("message", pa.string()),
        ("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass
class Counts:
    read: int = 0
    appended: int = 0
    duplicates: int = 0
    quarantined: int = 0

    def add(self, other: Counts) -> None:
        self.read += other.read
        self.appended += other.appended
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined

    @property
    def reconciles(self) -> bool:
        return self.read == self.appended + self.duplicates + self.quarantined


@dataclass(frozen=True)
class Commit:
    load_id: str
    feed_id: str
    committed_at: str
    recorded_at: str
    files: list[str]
    quarantine_files: list[str]
    removes: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None
    kind: str = "load"
    # a replay's: the loads whose events (and quarantine) it re-derived, from then on
    # no longer live (`peaceops replay`)
    retires: list[str] = field(default_factory=list)
    # when the hub knows the load from, the moment as-of reads select by: its commit, or
    # the time a back-dated load names (`recorded_at`); None in records written before
    # the field existed, known from their commit
    known_at: str | None = None

    @property
    def known(self) -> datetime:
        return datetime.fromisoformat(self.known_at or self.committed_at)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Commit:
        return cls(**data)

    @classmethod
    def read(cls, path: Path) -> Commit:
        """The commit record at `path`; ValueError saying why if the file is not one."""
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError) as err:
            raise ValueError(f"unreadable JSON ({err})") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        try:
            commit = cls.from_json(data)
        except TypeError as err:
            raise ValueError(f"not a commit record ({err})") from None
        if commit.load_id != path.stem:
            raise ValueError(f"its load_id {commit.load_id!r} is not its file name")
        lists = (
            commit.files,
            commit.quarantine_files,
            commit.removes,
            commit.sources,
            commit.retires,
        )
        if not all(isinstance(x, list) for x in lists) or not isinstance(commit.counts, dict):
            raise ValueError("files, quarantine_files, removes, sources or counts of a wrong type")
        return commit


def feed_of(load_id: str) -> str:
    """The feed of a load id (`<time>Z-<feed_id>-<random>`)."""
    return load_id.partition("-")[2].rpartition("-")[0]


_warned: set[Path] = set()


def _warn_once(path: Path, reason: str) -> None:
    """One warning per stray file and process: the log is read many times a command."""
    if path not in _warned:
        _warned.add(path)
        logger.warning("skipping %s: %s; move it out of %s", path, reason, path.parent)


def new_load_id(feed_id: str, now: datetime | None = None) -> str:
    """Time-sortable and unique. Taken once the feed's lock is held, so one feed's
    load ids sort in commit order; loads of different feeds may commit out of id order."""
    now = now or datetime.now(UTC)
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S.%f}Z-{feed_id}-{secrets.token_hex(3)}"


def _seal(path: Path) -> None:
    """A file DuckDB or Arrow wrote (they create 0644): private, and on disk before its commit."""
    os.chmod(path, PRIVATE_FILE)
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _count_by_source(refs: pa.ChunkedArray) -> dict[str, int]:
    """How many source refs (`<sha256>#<pos>`) name each payload."""
    shas = pc.list_element(pc.split_pattern(refs, "#", max_splits=1), 0)
    return {v["values"]: v["counts"] for v in pc.value_counts(shas).to_pylist()}


def sql_text(value: str | Path) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_time(value: datetime | None) -> str:
    """A TIMESTAMPTZ literal (NULL for None)."""
    if value is None:
        return "CAST(NULL AS TIMESTAMPTZ)"
    return f"TIMESTAMPTZ '{value.astimezone(UTC).isoformat()}'"


def loads_sql(commits: list[Commit], retired: dict[str, datetime]) -> str:
    """The relation `loads (load_id, known_at, retired_at)` of the loads that wrote events
    or quarantine: from when each is known, and when a replay retired it (else NULL)."""
    rows = [
        f"({sql_text(c.load_id)}, {sql_time(c.known)}, {sql_time(retired.get(c.load_id))})"
        for c in commits
        if c.kind != "compaction"  # its rows keep the load ids they were written by
    ]
    if not rows:
        rows = ["(CAST(NULL AS VARCHAR), CAST(NULL AS TIMESTAMPTZ), CAST(NULL AS TIMESTAMPTZ))"]
    return f"(VALUES {', '.join(rows)}) AS loads (load_id, known_at, retired_at)"


def sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(sql_text(p) for p in paths) + "]"


# A commit record is renamed into place whole and never rewritten, so a record this
# process has parsed is reused while its name points at the same file (inode): one
# ingest asks for the commits about five times, and a year of loads is 13,000 records.
_PARSED: dict[str, tuple[int, Commit]] = {}


class EventLog:
    """The log under a data directory. Cheap to create; reads commit records on demand."""

    def __init__(self, root: Path, commits: list[Commit] | None = None):
        self.root = Path(root)
        self.dir = eventlog_dir(self.root)
        self.commits_dir = self.dir / COMMITS
        self.quarantine_dir = quarantine_dir(self.root)
        # a snapshot's loads (see `snapshot`); None: whatever is committed when asked
        self._frozen = commits

    # --- reading -----------------------------------------------------------

    def commits(self, feed_id: str | None = None, as_of_load: str | None = None) -> list[Commit]:
        """The committed loads, in load id order. A file in `_commits/` that is not a
        commit record (a stray copy, a truncated write by hand) is skipped with a
        warning: it must not stop every later command, and it commits nothing."""
        commits = (
            self._read_commits(self._commit_entries()) if self._frozen is None else self._frozen
        )
        return [
            c
            for c in commits
            if (as_of_load is None or c.load_id <= as_of_load)
            and (feed_id is None or c.feed_id == feed_id)
        ]

    @staticmethod
    def _read_commits(entries: list[os.DirEntry[str]]) -> list[Commit]:
        out = []
        for entry in entries:
            if (cached := _PARSED.get(entry.path)) and cached[0] == entry.inode():
                out.append(cached[1])
                continue
            try:
                commit = Commit.read(Path(entry.path))
            except ValueError as err:
                _warn_once(Path(entry.path), str(err))
                continue
            _PARSED[entry.path] = (entry.inode(), commit)
            out.append(commit)
        return out

    def unreadable_commits(self) -> dict[Path, str]:
        """Files in `_commits/` that are not commit records, and why (for `status`)."""
        out = {}
        for entry in self._commit_entries():
            try:
                Commit.read(Path(entry.path))
            except ValueError as err:
                out[Path(entry.path)] = str(err)
        return out

    def _commit_entries(self) -> list[os.DirEntry[str]]:
        """The commit records' directory entries in load id order (scandir: a listing
        of 13,000 records costs 0.05 s where a glob took 0.6 s)."""
        if not self.commits_dir.exists():
            return []
        with os.scandir(self.commits_dir) as listing:
            found = [e for e in listing if e.name.endswith(".json")]
        return sorted(found, key=lambda e: e.name)

    def live_files(self, feed_id: str | Collection[str] | None = None) -> list[Path]:
        """Event files committed and not compacted away, oldest first (of one feed, of
        several, or of all)."""
        if isinstance(feed_id, str) or feed_id is None:
            commits = self.commits(feed_id)
        else:
            commits = [c for c in self.commits() if c.feed_id in feed_id]
        files: dict[str, None] = {}
        for commit in commits:
            for f in commit.removes:
                files.pop(f, None)
            for f in commit.files:
                files[f] = None
        return [self.dir / f for f in files]

    def retired(self, feed_id: str | None = None) -> dict[str, datetime]:
        """Load id -> when a replay retired it (from when the replay is known)."""
        return {load_id: c.known for c in self.commits(feed_id) for load_id in c.retires}

    def last_cursor(self, feed_id: str) -> str | None:
        """The cursor the feed's last committed load ended at: the next pull starts there."""
        cursors = [c.cursor for c in self.commits(feed_id) if c.cursor is not None]
        return cursors[-1] if cursors else None

    def committed_sources(self, feed_id: str) -> set[str]:
        return {s["sha256"] for c in self.commits(feed_id) for s in c.sources}

    def quarantine_files(self, feed_id: str | None = None, retired: bool = True) -> list[Path]:
        """The committed quarantine files; with `retired=False` not those of retired loads."""
        gone = set() if retired else set(self.retired(feed_id))
        return [
            self.quarantine_dir / f
            for c in self.commits(feed_id)
            if c.load_id not in gone
            for f in c.quarantine_files
        ]

    def relation(
        self,
        con: duckdb.DuckDBPyConnection,
        feed_id: str | None = None,
        *,
        as_of_load: str | None = None,
        as_of_time: datetime | None = None,
    ) -> duckdb.DuckDBPyRelation:
        """The committed log (or one feed) as a DuckDB relation, optionally as known at a moment."""
        return con.sql(self.select_sql(feed_id, as_of_load=as_of_load, as_of_time=as_of_time))

    def select_sql(
        self,
        feed_id: str | Collection[str] | None = None,
        *,
        as_of_load: str | None = None,
        as_of_time: datetime | None = None,
        include_retired: bool = False,
        loads: str | None = None,
    ) -> str:
        """The committed events (of a feed, several or all), as known now or at
        `as_of_time`, each with its load's `known_at` and `retired_at` (see loads_sql):
        a load counts from when it is known, and a retired load's events are left out
        once retired, unless `include_retired` (the warehouse's views: dbt filters them
        as of its build). `loads` names a relation like loads_sql's to join instead of
        one built from the commit records (the warehouse's `eventlog.loads`)."""
        files = self.live_files(feed_id)
        if not files:
            return EMPTY_EVENTS_SQL
        cols = ", ".join(f"events.{c}" for c in EVENT_COLUMNS)
        if loads is None:
            feeds = {feed_id} if isinstance(feed_id, str) else feed_id
            commits = [c for c in self.commits() if feeds is None or c.feed_id in feeds]
            loads = loads_sql(commits, self.retired())
        sql = (
            f"SELECT {cols}, events.feed_id, loads.known_at, loads.retired_at "
            f"FROM read_parquet({sql_list(files)}, hive_partitioning = true) AS events "
            f"INNER JOIN {loads} ON events.load_id = loads.load_id"
        )
        # As-of filters work on the rows, not the files: compaction merges files
        # across loads but keeps every row's load_id. A row of a load a replay retired
        # is known until that replay is.
        where = []
        if as_of_load is not None:
            where.append(f"events.load_id <= {sql_text(as_of_load)}")
        if as_of_time is not None:
            moment = sql_time(as_of_time)
            where.append(f"loads.known_at <= {moment}")
            where.append(f"(loads.retired_at IS NULL OR loads.retired_at > {moment})")
        elif include_retired is False:
            where.append("loads.retired_at IS NULL")
        return sql + (" WHERE " + " AND ".join(where) if where else "")

    def dataset(self, feed_id: str | None = None) -> Any:
        """The committed log as an Arrow dataset (for engines other than DuckDB)."""
        import pyarrow.dataset as ds

        files = [str(f) for f in self.live_files(feed_id)]
        return ds.dataset(
            files, format="parquet", partitioning="hive", partition_base_dir=str(self.dir)
        )

    # --- writing -----------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, feed_id: str, timeout: float | None = None) -> Iterator[None]:
        """One writer per feed at a time; different feeds append in parallel (see
        holder_lock)."""
        with holder_lock(self._locks() / f"{feed_id}.lock", f"feed {feed_id}", timeout):
            yield

    def _locks(self) -> Path:
        return private_dir(self.root, state_dir(self.root) / "locks")

    @contextlib.contextmanager
    def clock(self) -> Iterator[datetime]:
        """The log's clock: a moment, held while a commit record is renamed into place
        or while a build lists the commits, so that the two never interleave. The
        moment is after every moment it gave before, even if the system clock steps
        back (the last one is kept in the lock file): a load committed after a build's
        moment is stamped after it. Held for milliseconds."""
        with open(self._locks() / "clock.lock", "a+", opener=private_opener) as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.seek(0)
                last = fh.read().strip()
                now = datetime.now(UTC)
                if last:
                    now = max(now, datetime.fromisoformat(last) + timedelta(microseconds=1))
                fh.truncate(0)
                fh.write(now.isoformat())
                fh.flush()
                yield now
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def snapshot(self) -> tuple[datetime, EventLog]:
        """The log at one moment of its clock: the moment, and a reader of exactly the
        loads committed by then (whatever is committed later, it reads the same)."""
        with self.clock() as now:
            entries = self._commit_entries()
        return now, EventLog(self.root, self._read_commits(entries))

    def clean_debris(self, feed_id: str) -> list[Path]:
        """Delete files of this feed that no commit names: leftovers of killed loads
        (event and quarantine files, half-landed `.part` payloads, commit records
        being written).

        Call only while holding the feed's lock, so no load of this feed is running.
        """
        keep = set(self.live_files(feed_id)) | set(self.quarantine_files(feed_id))
        folders = (self.dir / f"feed_id={feed_id}", self.quarantine_dir / f"feed_id={feed_id}")
        debris = [p for folder in folders if folder.exists() for p in folder.iterdir()]
        debris += (landing_dir(self.root) / feed_id).glob(".*.part")
        debris += (
            p
            for p in self.commits_dir.glob(".*.json.*.tmp")
            if feed_of(p.name[1:].partition(".json.")[0]) == feed_id
        )
        removed = [p for p in debris if p not in keep]
        for path in removed:
            path.unlink()
        if removed:
            logger.info("feed %s: removed %d leftovers of killed runs", feed_id, len(removed))
        return removed

    def begin(
        self, feed_id: str, recorded_at: datetime | None = None, lock_timeout: float | None = None
    ) -> Load:
        """A load of `feed_id`, recorded now, or at `recorded_at`: a back-dated load,
        known from that time rather than from its commit."""
        return Load(
            self,
            feed_id,
            recorded_at or datetime.now(UTC),
            lock_timeout,
            backdated=recorded_at is not None,
        )

    def compact(
        self, feed_id: str, min_files: int = 2, lock_timeout: float | None = None
    ) -> Commit | None:
        """Merge a feed's live files into one: same rows, same ids, one atomic commit.

        The replaced files are deleted only after the commit; if the process dies
        in between, the next load's debris cleaning deletes them.
        """
        with self.lock(feed_id, lock_timeout):
            self.clean_debris(feed_id)
            files = self.live_files(feed_id)
            if len(files) < min_files:
                return None
            load_id = new_load_id(feed_id)
            name = f"{load_id}-0.parquet"
            target = self.dir / f"feed_id={feed_id}" / name
            con = connect()
            try:
                con.execute(
                    f"COPY (SELECT {', '.join(EVENT_COLUMNS)} FROM read_parquet({sql_list(files)}) "
                    f"ORDER BY load_id, event_id) TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
                )
            finally:
                con.close()
            _seal(target)
            with self.clock() as now:
                commit = Commit(
                    load_id=load_id,
                    feed_id=feed_id,
                    committed_at=now.isoformat(),
                    recorded_at=now.isoformat(),
                    known_at=now.isoformat(),
                    files=[f"feed_id={feed_id}/{name}"],
                    quarantine_files=[],
                    removes=[str(f.relative_to(self.dir)) for f in files],
                    counts={"read": 0, "appended": 0, "duplicates": 0, "quarantined": 0},
                    kind="compaction",
                )
                self._write_commit(commit)
            for f in files:
                f.unlink()
            return commit

    def _write_commit(self, commit: Commit) -> None:
        """Rename the commit record into place once what it names is durable: the files'
        bytes (sealed by the caller) and their names, which are data of their folders,
        as a new folder's name is of the folder above it (`_commits` too)."""
        private_dir(self.root, self.commits_dir)
        written = [self.dir / f for f in commit.files]
        written += [self.quarantine_dir / f for f in commit.quarantine_files]
        for folder in sorted(
            {self.dir} | {p.parent for p in written} | {p.parent.parent for p in written}
        ):
            fsync_dir(folder)
        atomic_write(
            self.commits_dir / f"{commit.load_id}.json",
            json.dumps(asdict(commit), indent=1).encode(),
        )
        fsync_dir(self.commits_dir)


class Load:
    """One append: add batches, then commit once; `renew` starts the next append of
    the same run. Use as a context manager."""

    def __init__(
        self,
        log: EventLog,
        feed_id: str,
        recorded_at: datetime,
        lock_timeout: float | None = None,
        *,
        backdated: bool = False,
    ):
        self.log = log
        self.feed_id = feed_id
        self.recorded_at = recorded_at.astimezone(UTC)
        # known from recorded_at rather than from the commit (EventLog.begin)
        self.backdated = backdated
        self._fresh(load_id="")  # the id is taken under the lock, see __enter__
        self.con = connect()
        self._lock = log.lock(feed_id, lock_timeout)
        self._committed_ids: str | None = None

    def _fresh(self, load_id: str) -> None:
        self.load_id = load_id
        self.kind = "load"
        self.retires: list[str] = []
        self.counts = Counts()
        self.files: list[str] = []
        self.sources: list[dict[str, Any]] = []
        self.quarantine: list[pa.Table] = []

    def renew(self) -> None:
        """Start the next load, still under the feed's lock: a new load id and nothing
        added yet; ids committed so far still count as duplicates."""
        self._fresh(new_load_id(self.feed_id))

    def __enter__(self) -> Load:
        try:
            self._lock.__enter__()
        except BaseException:
            self.con.close()
            raise
        self.load_id = new_load_id(self.feed_id)
        self.log.clean_debris(self.feed_id)
        self._committed_ids_from(self.log.select_sql(self.feed_id))
        return self

    def _committed_ids_from(self, events_sql: str) -> None:
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE committed_ids AS SELECT event_id FROM ({events_sql})"
        )

    def retire(self, load_ids: list[str]) -> None:
        """Make this load a replay of the feed: its commit retires `load_ids` (their events
        and quarantine), so the events it re-derives are not duplicates of theirs."""
        self.retires = list(load_ids)
        self.kind = "replay"
        gone = ", ".join(sql_text(i) for i in load_ids) or "NULL"
        self._committed_ids_from(
            f"SELECT * FROM ({self.log.select_sql(self.feed_id)}) WHERE load_id NOT IN ({gone})"
        )

    def __exit__(self, *exc: Any) -> None:
        self.con.close()
        self._lock.__exit__(*exc)

    @property
    def feed_dir(self) -> Path:
        return self.log.dir / f"feed_id={self.feed_id}"

    def add(
        self,
        envelope_sql: str,
        batch: Any,
        *,
        source: dict[str, Any] | list[dict[str, Any]],
        rejects: pa.Table | None = None,
    ) -> Counts:
        """Append the events that `envelope_sql` computes over `batch` (an Arrow table).

        The batch is bound as the relation `batch`; the SQL must yield the envelope
        plus `quarantine_reason` and `quarantine_message` (see ingest.feeds.envelope).
        `rejects` are records the decoder could not read (QUARANTINE_SCHEMA); they
        count as read and quarantined. `source` describes the payload the batch came
        from (its `sha256`, ...), or is a list of them when the batch holds several
        payloads and names each record's in its `_source` column; the commit record
        keeps each payload's counts.
        """
        con = self.con
        params = {"recorded_at": self.recorded_at}
        counts = Counts()
        private_dir(self.log.root, self.feed_dir)
        name = f"{self.load_id}-{len(self.files)}.parquet"
        target = self.feed_dir / name
        cols = ", ".join(EVENT_COLUMNS)
        sources = [source] if isinstance(source, dict) else source
        con.register("batch", batch)
        try:
            counts.read = con.sql("SELECT count(*) FROM batch").fetchall()[0][0]
            read_by_source = (
                dict(con.sql(f"SELECT {SOURCE}, count(*) FROM batch GROUP BY ALL").fetchall())
                if len(sources) > 1
                else {}
            )
            # One streaming pass computes the envelope and writes the events: no
            # intermediate table of the whole batch.
            written = con.execute(
                f"""COPY (
                    SELECT {cols} FROM ({envelope_sql}) AS envelope
                    WHERE quarantine_reason IS NULL
                      -- NOT EXISTS, not NOT IN: ids are never null, and the anti join
                      -- can then hash the small batch instead of every committed id
                      -- (NOT IN rebuilt a table of the whole feed for each file)
                      AND NOT EXISTS (
                          SELECT 1 FROM committed_ids WHERE committed_ids.event_id = envelope.event_id
                      )
                ) TO '{target}' {EVENT_FILE}""",
                params,
            ).fetchall()[0][0]
            # Only a batch with records that did not become events can hold quarantine:
            # a new and clean one (the usual) skips this second pass over it.
            bad = (
                con.sql(
                    f"SELECT load_id, source_ref, payload AS raw, quarantine_reason AS reason, "
                    f"quarantine_message AS message, CAST($recorded_at AS TIMESTAMPTZ) AS "
                    f"quarantined_at FROM ({envelope_sql}) WHERE quarantine_reason IS NOT NULL",
                    params=params,
                ).to_arrow_table()
                if written < counts.read
                else QUARANTINE_SCHEMA.empty_table()
            )
        finally:
            con.unregister("batch")
        if written and self._repeats(target):
            # Re-sends inside one batch are rare: only then is the file rewritten with
            # the first of each event (costly at millions of rows, so not by default).
            written = self._keep_first(target)
        counts.quarantined = bad.num_rows
        if bad.num_rows:
            self.quarantine.append(bad.cast(QUARANTINE_SCHEMA))
        if rejects is not None and rejects.num_rows:
            counts.read += rejects.num_rows
            counts.quarantined += rejects.num_rows
            self.quarantine.append(rejects.cast(QUARANTINE_SCHEMA))
        counts.appended = written
        counts.duplicates = counts.read - counts.quarantined - written
        if len(sources) > 1:
            per_source = self._counts_by_source(
                read_by_source, target if written else None, bad, rejects
            )
            self.sources += [{**s, **asdict(per_source[s["sha256"]])} for s in sources]
        else:
            self.sources.append({**sources[0], **asdict(counts)})
        if written:
            con.execute(f"INSERT INTO committed_ids SELECT event_id FROM read_parquet('{target}')")
            self.files.append(f"feed_id={self.feed_id}/{name}")
        else:
            target.unlink()
        self.counts.add(counts)
        return counts

    def _counts_by_source(
        self, read: dict[str, int], written: Path | None, bad: pa.Table, rejects: pa.Table | None
    ) -> dict[str, Counts]:
        """Each payload's counts in a batch of several, by the sha256 in source refs."""
        by_source: dict[str, Counts] = defaultdict(Counts)
        for sha, n in read.items():
            by_source[sha].read = n
        if written is not None:
            refs = pq.read_table(written, columns=["source_ref"]).column("source_ref")
            for sha, n in _count_by_source(refs).items():
                by_source[sha].appended = n
        for sha, n in _count_by_source(bad.column("source_ref")).items():
            by_source[sha].quarantined += n
        if rejects is not None:
            # records the decoder could not read: read and quarantined
            for sha, n in _count_by_source(rejects.column("source_ref")).items():
                by_source[sha].read += n
                by_source[sha].quarantined += n
        for counts in by_source.values():
            counts.duplicates = counts.read - counts.quarantined - counts.appended
        return by_source

    def _repeats(self, target: Path) -> int:
        return self.con.sql(
            f"SELECT count(event_id) - count(DISTINCT event_id) FROM read_parquet('{target}')"
        ).fetchall()[0][0]

    def _keep_first(self, target: Path) -> int:
        first = target.with_suffix(".first.parquet")
        written = self.con.sql(
            f"""COPY (
                SELECT * FROM read_parquet('{target}')
                QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY source_ref) = 1
            ) TO '{first}' {EVENT_FILE}"""
        ).fetchall()[0][0]
        first.replace(target)
        return written

    @property
    def changed(self) -> bool:
        return bool(self.files or self.quarantine or self.sources)

    def commit(self, cursor: str | None = None) -> Commit | None:
        """Make the load visible: one atomic rename of its commit record.

        A load that brought nothing new (no events, no quarantine, no new source)
        commits nothing: a rerun is a no-op.
        """
        if not self.changed and not self.retires and cursor == self.log.last_cursor(self.feed_id):
            return None
        quarantine_files = []
        if self.quarantine:
            qdir = private_dir(self.log.root, self.log.quarantine_dir / f"feed_id={self.feed_id}")
            table = pa.concat_tables([t.cast(QUARANTINE_SCHEMA) for t in self.quarantine])
            pq.write_table(table, qdir / f"{self.load_id}.parquet", compression="zstd")
            _seal(qdir / f"{self.load_id}.parquet")
            quarantine_files.append(f"feed_id={self.feed_id}/{self.load_id}.parquet")
        for f in self.files:
            _seal(self.log.dir / f)
        if not self.counts.reconciles:
            raise AssertionError(f"load {self.load_id} does not reconcile: {self.counts}")
        with self.log.clock() as now:
            commit = Commit(
                load_id=self.load_id,
                feed_id=self.feed_id,
                committed_at=now.isoformat(),
                recorded_at=self.recorded_at.isoformat(),
                known_at=(self.recorded_at if self.backdated else now).isoformat(),
                files=self.files,
                quarantine_files=quarantine_files,
                sources=self.sources,
                counts=asdict(self.counts),
                cursor=cursor,
                kind=self.kind,
                retires=self.retires,
            )
            self.log._write_commit(commit)
        return commit
