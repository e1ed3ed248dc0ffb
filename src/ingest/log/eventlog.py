"""The append-only event log: Hive-partitioned Parquet plus one commit record per load.

Rules (DESIGN.md, "Event sourcing"):
- A load writes its Parquet files and its quarantine file first, then commits
  them by renaming one JSON commit record into `eventlog/_commits/`. Readers see
  only the files that commit records name, so a load is visible whole or not at
  all; a process killed mid-load leaves unreferenced files that the next load
  of that feed deletes.
- Event ids are deterministic, and the log holds each id once. Which records of a
  batch become events, which are duplicates and which are quarantined is ingest's
  decision (`Decision`, made by ingest.feeds.decide); the log offers the ids it
  holds for a load (`COMMITTED_IDS`: committed, or written earlier in the same load)
  for it to leave out, so a rerun adds nothing.
- Files are never rewritten. Compaction writes a new file and commits it with
  the list of files it replaces (`removes`), in one rename.
- A load is known from its commit (`known_at`): the log's clock (`EventLog.clock`)
  stamps it while the commit record is renamed into place, and a build lists the
  commits under the same clock (`EventLog.snapshot`), so a load stamped at or before a
  build's moment is in what the build reads, and one committed later is stamped after
  it. A back-dated load (`ingest --now`, a backfill) is known from the time it names.
- Every commit takes the next log-wide sequence number (`seq`) under the same clock, so
  commits of all feeds are in one total order: "as of load X" is every commit up to X's
  `seq`. Records written before `seq` existed are ordered by commit time, then load id.
- Every `Settings.checkpoint_every` commits (PEACEOPS_CHECKPOINT_EVERY), a checkpoint
  (`eventlog/_checkpoints/<seq>.json`, written whole by `atomic_write`) lists every commit up to that `seq`; a reader takes the
  newest readable checkpoint plus the records it does not list, instead of opening every
  record. It is a cache of the records, never the truth: a record gone or replaced (another
  inode) is read as the directory has it, and without a checkpoint the log reads the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.durable import atomic_write, fsync_dir, holder_lock
from ingest.log.upcast import upcast_columns
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
from ingest.settings import Settings
from ingest.sql import literal

logger = logging.getLogger(__name__)

COMMITS = "_commits"
CHECKPOINTS = "_checkpoints"
CHECKPOINT_NAME = re.compile(r"^(\d{12})\.json$")
CHECKPOINT_FORMAT = 1
# Older checkpoints than the newest few are deleted; one a reader listed stays this long.
CHECKPOINTS_KEPT = 2
# A checkpoint's temporary file older than this is debris of a killed writer.
CHECKPOINT_DEBRIS_AGE = 600.0  # seconds

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
# Relations a load's SQL reads (see Decision). COMMITTED_IDS (event_id) holds every id
# the feed's log holds for the load: its committed events (less those of the loads it
# retires) and the events the load has stored so far.
COMMITTED_IDS = "committed_ids"
# A batch of several payloads names each record's payload (its sha256) in this column, so
# that the load keeps each payload's counts. Like a decoder's POS, a name no decoder gives
# a column (decoders drop control characters).
SOURCE = "\x1fsource"
# The events a load wrote of one batch.
WRITTEN = "written"


@dataclass(frozen=True)
class Decision:
    """What ingest decided to store of one batch, as DuckDB SELECTs the load runs: over
    the batch bound as the relation `batch`, with the load's recorded_at as
    `$recorded_at`. The load stores what they yield; it decides nothing.

    - `events`: the events to append, with every column of EVENT_COLUMNS; what is
      already stored (COMMITTED_IDS) is left out here.
    - `quarantine`: the records that cannot become events, with every column of
      QUARANTINE_SCHEMA.
    - `one_per_id`: over WRITTEN (the events as `events` yielded them), one event of
      each id. The log holds an id once: it runs this only when `events` yielded one
      twice (rare).

    A record is an event, quarantined, or neither: a duplicate.
    """

    events: str
    quarantine: str
    one_per_id: str


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
    # the log-wide order of commits across feeds (EventLog.stamp); None in records written
    # before it existed, which are ordered by commit time, then load id (`ordered`)
    seq: int | None = None

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
        if commit.seq is not None and (type(commit.seq) is not int or commit.seq < 1):
            raise ValueError(f"its seq {commit.seq!r} is not a positive integer")
        return commit

    @property
    def order(self) -> tuple[int, str, str]:
        """Its place in the log's total order (ties, which only a clock file restored from
        an old backup could cause, broken by commit time, then load id)."""
        return (self.seq or 0, self.committed_at, self.load_id)


def ordered(commits: Iterable[Commit], after: int = 0) -> list[Commit]:
    """Commits in the log's order. Records without a `seq` (written before it existed) are
    numbered after `after` by commit time, then load id: the clock stamps commit times in
    commit order. The first checkpoint keeps the numbers they were given."""
    legacy = sorted((c for c in commits if c.seq is None), key=lambda c: c.order)
    numbered = [replace(c, seq=after + i) for i, c in enumerate(legacy, 1)]
    return sorted([c for c in commits if c.seq is not None] + numbered, key=lambda c: c.order)


def retired_by(commits: Iterable[Commit]) -> dict[str, datetime]:
    """Load id -> when a replay among `commits` retired it (from when the replay is known)."""
    return {load_id: c.known for c in commits for load_id in c.retires}


@dataclass(frozen=True)
class Scan:
    """What the log's commit records say at one listing: the commits in order, each
    record's inode (a checkpoint names the file it read), and the files that are not
    commit records, with why."""

    commits: list[Commit]
    inodes: dict[str, int]
    unreadable: dict[Path, str]


def feed_of(load_id: str) -> str:
    """The feed of a load id (`<time>Z-<feed_id>-<random>`)."""
    return load_id.partition("-")[2].rpartition("-")[0]


_warned: set[Path] = set()


def _warn_once(path: Path, reason: str) -> None:
    """One warning per stray file and process: the log is read many times a command."""
    if path not in _warned:
        _warned.add(path)
        logger.warning("skipping %s: %s; move it out of %s", path, reason, path.parent)


def _checkpoint_seq(path: Path) -> int:
    return int(path.name.partition(".")[0])


def _read_checkpoint(path: Path) -> tuple[int, list[int], list[Commit]] | None:
    """A checkpoint's (seq, record inodes, commits); None, with a warning, if it cannot be
    read (deleted by a newer writer meanwhile, or damaged): the records are the truth."""
    try:
        inode = path.stat().st_ino
        if (cached := _CHECKPOINTS.get(str(path))) and cached[0] == inode:
            return cached[1:]
        data = json.loads(path.read_bytes())
        if data.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, not {CHECKPOINT_FORMAT}")
        commits = [Commit.from_json(c) for c in data["commits"]]
        inodes = [int(i) for i in data["inodes"]]
        if data["seq"] != _checkpoint_seq(path) or len(inodes) != len(commits):
            raise ValueError("its seq or its lists disagree with its name")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        _warn_once(path, f"not a checkpoint ({err}); reading the commit records instead")
        return None
    _CHECKPOINTS[str(path)] = (inode, data["seq"], inodes, commits)
    return data["seq"], inodes, commits


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


def sql_time(value: datetime | None) -> str:
    """A TIMESTAMPTZ literal (NULL for None)."""
    if value is None:
        return "CAST(NULL AS TIMESTAMPTZ)"
    return f"TIMESTAMPTZ '{value.astimezone(UTC).isoformat()}'"


def loads_sql(commits: list[Commit], retired: dict[str, datetime]) -> str:
    """The relation `loads (load_id, known_at, retired_at)` of the loads that wrote events
    or quarantine: from when each is known, and when a replay retired it (else NULL)."""
    rows = [
        f"({literal(c.load_id)}, {sql_time(c.known)}, {sql_time(retired.get(c.load_id))})"
        for c in commits
        if c.kind != "compaction"  # its rows keep the load ids they were written by
    ]
    if not rows:
        rows = ["(CAST(NULL AS VARCHAR), CAST(NULL AS TIMESTAMPTZ), CAST(NULL AS TIMESTAMPTZ))"]
    return f"(VALUES {', '.join(rows)}) AS loads (load_id, known_at, retired_at)"


# "Known at a moment", declared once for Python's readers (`EventLog.select_sql`, the
# reconciliation): the load known by then, and no replay known by then retired it. dbt's
# `known_at_as_of` macro cannot call Python; tests/eventlog/test_as_of_drift.py holds
# the two to the same events.
def known_sql(moment: datetime | None, loads: str = "") -> str:
    """Rows of loads known by `moment` (None: every committed one); `loads` prefixes the
    columns (e.g. "loads.")."""
    return "true" if moment is None else f"{loads}known_at <= {sql_time(moment)}"


def live_sql(moment: datetime | None, loads: str = "") -> str:
    """Rows of loads no replay had retired by `moment` (None: none has)."""
    if moment is None:
        return f"{loads}retired_at IS NULL"
    return f"({loads}retired_at IS NULL OR {loads}retired_at > {sql_time(moment)})"


def known_at_sql(moment: datetime | None, loads: str = "") -> str:
    """Rows known at `moment` (None: the live ones): their load known by then, and not
    retired by then."""
    return f"{known_sql(moment, loads)} AND {live_sql(moment, loads)}"


def sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(literal(p) for p in paths) + "]"


# A commit record is renamed into place whole and never rewritten, so a record this
# process has parsed is reused while its name points at the same file (inode): one
# ingest asks for the commits about five times, and a year of loads is 13,000 records.
_PARSED: dict[str, tuple[int, Commit]] = {}
# A checkpoint is never rewritten under its name either: path -> (inode, seq, inodes, commits).
_CHECKPOINTS: dict[str, tuple[int, int, list[int], list[Commit]]] = {}


class EventLog:
    """The log under a data directory. Cheap to create; reads commit records on demand."""

    def __init__(self, root: Path, commits: list[Commit] | None = None):
        self.root = Path(root)
        self.dir = eventlog_dir(self.root)
        self.commits_dir = self.dir / COMMITS
        self.checkpoints_dir = self.dir / CHECKPOINTS
        self.quarantine_dir = quarantine_dir(self.root)
        # a snapshot's loads (see `snapshot`); None: whatever is committed when asked
        self._frozen = commits

    # --- reading -----------------------------------------------------------

    def commits(self, feed_id: str | None = None, as_of_load: str | None = None) -> list[Commit]:
        """The committed loads in the log's order (`seq`), up to `as_of_load` if given. A
        file in `_commits/` that is not a commit record (a stray copy, a truncated write
        by hand) is skipped with a warning: it must not stop every later command, and it
        commits nothing."""
        commits = self._scan().commits if self._frozen is None else self._frozen
        if as_of_load is not None:
            last = self.seq_of(as_of_load, commits)
            commits = [c for c in commits if c.seq is not None and c.seq <= last]
        return [c for c in commits if feed_id is None or c.feed_id == feed_id]

    @staticmethod
    def seq_of(load_id: str, commits: list[Commit]) -> int:
        """The `seq` of a committed load; ValueError if no commit has that load id."""
        for c in commits:
            if c.load_id == load_id and c.seq is not None:
                return c.seq
        raise ValueError(f"no committed load {load_id!r}")

    def _scan(self, listing: tuple[list[os.DirEntry[str]], list[Path]] | None = None) -> Scan:
        """The commits, from the newest readable checkpoint and the records it does not
        list (or lists with another inode: replaced since, so read again). `listing` is
        a `_listing()` taken earlier (under the clock, by `snapshot`)."""
        entries, checkpoints = listing or self._listing()
        by_name = {e.name: e for e in entries}
        commits: list[Commit] = []
        inodes: dict[str, int] = {}
        base, seqs = 0, {}
        for path in checkpoints:
            loaded = _read_checkpoint(path)
            if loaded is None:
                continue
            base, checkpoint_inodes, checkpointed = loaded
            for inode, commit in zip(checkpoint_inodes, checkpointed, strict=True):
                entry = by_name.get(f"{commit.load_id}.json")
                # a record gone from the folder is no longer committed; one replaced is
                # read again, keeping the place the checkpoint gave it
                if entry is not None and entry.inode() == inode:
                    del by_name[entry.name]
                    commits.append(commit)
                    inodes[commit.load_id] = inode
                else:
                    seqs[commit.load_id] = commit.seq
            break
        tail, unreadable = self._read_commits(by_name.values())
        tail = [c if c.seq is not None else replace(c, seq=seqs.get(c.load_id)) for c in tail]
        inodes.update({c.load_id: by_name[f"{c.load_id}.json"].inode() for c in tail})
        return Scan(ordered(commits + tail, after=base), inodes, unreadable)

    def _listing(self) -> tuple[list[os.DirEntry[str]], list[Path]]:
        """The commit records' directory entries and the checkpoints, newest first."""
        return self._commit_entries(), self._checkpoints()

    @staticmethod
    def _read_commits(
        entries: Iterable[os.DirEntry[str]],
    ) -> tuple[list[Commit], dict[Path, str]]:
        out, unreadable = [], {}
        for entry in entries:
            if (cached := _PARSED.get(entry.path)) and cached[0] == entry.inode():
                out.append(cached[1])
                continue
            try:
                commit = Commit.read(Path(entry.path))
            except ValueError as err:
                _warn_once(Path(entry.path), str(err))
                unreadable[Path(entry.path)] = str(err)
                continue
            _PARSED[entry.path] = (entry.inode(), commit)
            out.append(commit)
        return out, unreadable

    def unreadable_commits(self) -> dict[Path, str]:
        """Files in `_commits/` that are not commit records, and why (for `status`)."""
        return self._scan().unreadable

    def _commit_entries(self) -> list[os.DirEntry[str]]:
        """The commit records' directory entries (scandir: a listing of 13,000 records
        costs 0.05 s where a glob took 0.6 s)."""
        if not self.commits_dir.exists():
            return []
        with os.scandir(self.commits_dir) as listing:
            return [e for e in listing if e.name.endswith(".json")]

    def _checkpoints(self) -> list[Path]:
        """The checkpoints, newest first (a half-written one has a dotted name)."""
        if not self.checkpoints_dir.exists():
            return []
        with os.scandir(self.checkpoints_dir) as listing:
            names = [e.name for e in listing if CHECKPOINT_NAME.match(e.name)]
        return [self.checkpoints_dir / n for n in sorted(names, reverse=True)]

    def last_seq(self) -> int:
        """The newest commit's `seq` (0 for an empty log)."""
        commits = self._scan().commits
        return commits[-1].seq or 0 if commits else 0

    def checkpoint(self) -> Path | None:
        """Write a checkpoint of every commit so far (None if the newest checkpoint
        already holds them all). Safe beside commits and other checkpoints: it lists
        what is committed, and a commit's `seq` is taken and its record renamed under one
        hold of the clock, so no commit below the newest listed is still to come."""
        scan = self._scan()
        if not scan.commits:
            return None
        last = scan.commits[-1].seq or 0
        checkpoints = self._checkpoints()
        if checkpoints and _checkpoint_seq(checkpoints[0]) >= last:
            return None
        private_dir(self.root, self.checkpoints_dir)
        data = {
            "format": CHECKPOINT_FORMAT,
            "seq": last,
            "inodes": [scan.inodes[c.load_id] for c in scan.commits],
            "commits": [asdict(c) for c in scan.commits],
        }
        path = atomic_write(self.checkpoints_dir / f"{last:012d}.json", json.dumps(data).encode())
        fsync_dir(self.checkpoints_dir)
        self._prune_checkpoints()
        return path

    def _prune_checkpoints(self) -> None:
        """Delete checkpoints older than the newest few, and temporary files of killed
        checkpoint writers (old enough not to be another writer's, still writing)."""
        for old in self._checkpoints()[CHECKPOINTS_KEPT:]:
            old.unlink(missing_ok=True)
        cutoff = time.time() - CHECKPOINT_DEBRIS_AGE
        for tmp in self.checkpoints_dir.glob(".*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()

    def _after_commit(self, commit: Commit) -> None:
        """Checkpoint when the settings' `checkpoint_every` commits have passed since the
        newest checkpoint. The load is committed already: a checkpoint that fails is a warning,
        and the next commit tries again."""
        checkpoints = self._checkpoints()
        newest = _checkpoint_seq(checkpoints[0]) if checkpoints else 0
        if (commit.seq or 0) - newest < Settings.resolve().checkpoint_every:
            return
        try:
            self.checkpoint()
        except OSError as err:
            logger.warning("could not write a checkpoint of the event log: %s", err)

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
        return retired_by(self.commits(feed_id))

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
        one built from the commit records (the warehouse's `eventlog.loads`).

        As of a load: the loads committed up to it (its `seq`), of every feed, less those
        a replay up to it retired."""
        files = self.live_files(feed_id)
        if not files:
            return EMPTY_EVENTS_SQL
        feeds = {feed_id} if isinstance(feed_id, str) else feed_id
        columns = {c: f"events.{c}" for c in EVENT_COLUMNS}
        # old payloads read as their feed's newest layout (ingest.log.upcast)
        columns["payload"], columns["schema_version"] = upcast_columns(
            columns["payload"], columns["schema_version"], "events.feed_id", feeds
        )
        cols = ", ".join(f"{sql} AS {c}" for c, sql in columns.items())
        if loads is None:
            known = self.commits(as_of_load=as_of_load)
            commits = [c for c in known if feeds is None or c.feed_id in feeds]
            loads = loads_sql(commits, retired_by(known))
        elif as_of_load is not None:
            raise ValueError("as_of_load reads the commit records, not a relation of loads")
        sql = (
            f"SELECT {cols}, events.feed_id, loads.known_at, loads.retired_at "
            f"FROM read_parquet({sql_list(files)}, hive_partitioning = true) AS events "
            f"INNER JOIN {loads} ON events.load_id = loads.load_id"
        )
        # As-of filters work on the rows, not the files: compaction merges files
        # across loads but keeps every row's load_id. A row of a load a replay retired
        # is known until that replay is.
        where = []
        if as_of_time is not None:
            where.append(known_at_sql(as_of_time, "loads."))
        elif include_retired is False:
            where.append(live_sql(None, "loads."))
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
        with self._clock(claim=False) as (now, _):
            yield now

    @contextlib.contextmanager
    def stamp(self) -> Iterator[tuple[datetime, int]]:
        """The clock's moment and the next `seq`, for one commit: its record must be
        renamed into place before the block ends. The lock file keeps the last `seq`
        next to the last moment, on disk before the record that uses it; a lock file
        without one (a log from before `seq`, a state folder wiped) is caught up from
        the records once."""
        with self._clock(claim=True) as (now, seq):
            assert seq is not None
            yield now, seq

    @contextlib.contextmanager
    def _clock(self, *, claim: bool) -> Iterator[tuple[datetime, int | None]]:
        with open(self._locks() / "clock.lock", "a+", opener=private_opener) as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.seek(0)
                # "<moment> <seq>"; a clock from before `seq` kept the moment alone
                last, _, last_seq = fh.read().strip().partition(" ")
                now = datetime.now(UTC)
                if last:
                    now = max(now, datetime.fromisoformat(last) + timedelta(microseconds=1))
                seq = int(last_seq) if last_seq else None
                if claim:
                    checkpoints = self._checkpoints()
                    newest = _checkpoint_seq(checkpoints[0]) if checkpoints else 0
                    # a lock file older than the newest checkpoint (restored, or wiped)
                    # is behind the records: count from them
                    if seq is None or seq < newest:
                        seq = self.last_seq()
                    seq += 1
                fh.truncate(0)
                fh.write(now.isoformat() if seq is None else f"{now.isoformat()} {seq}")
                fh.flush()
                if claim:
                    os.fsync(fh.fileno())
                yield now, seq
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def snapshot(self) -> tuple[datetime, EventLog]:
        """The log at one moment of its clock: the moment, and a reader of exactly the
        loads committed by then (whatever is committed later, it reads the same)."""
        with self.clock() as now:
            listing = self._listing()
        return now, EventLog(self.root, self._scan(listing).commits)

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
            with self.stamp() as (now, seq):
                commit = Commit(
                    seq=seq,
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
            self._after_commit(commit)
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
            f"CREATE OR REPLACE TEMP TABLE {COMMITTED_IDS} AS SELECT event_id FROM ({events_sql})"
        )

    def retire(self, load_ids: list[str]) -> None:
        """Make this load a replay of the feed: its commit retires `load_ids` (their events
        and quarantine), so the events it re-derives are not duplicates of theirs."""
        self.retires = list(load_ids)
        self.kind = "replay"
        gone = ", ".join(literal(i) for i in load_ids) or "NULL"
        self._committed_ids_from(
            f"SELECT * FROM ({self.log.select_sql(self.feed_id)}) WHERE load_id NOT IN ({gone})"
        )

    def __exit__(self, *exc: Any) -> None:
        self.con.close()
        self._lock.__exit__(*exc)

    @property
    def feed_dir(self) -> Path:
        return self.log.dir / f"feed_id={self.feed_id}"

    def store(
        self,
        decision: Decision,
        batch: pa.Table,
        *,
        source: dict[str, Any] | list[dict[str, Any]],
        rejects: pa.Table | None = None,
    ) -> Counts:
        """Store what `decision` (ingest's, see Decision) yields over `batch`: its events
        and its quarantine; each of the batch's records the events and the quarantine
        leave out is a duplicate.

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
        sources = [source] if isinstance(source, dict) else source
        con.register("batch", batch)
        try:
            counts.read = con.sql("SELECT count(*) FROM batch").fetchall()[0][0]
            read_by_source = (
                dict(con.sql(f"SELECT {SOURCE}, count(*) FROM batch GROUP BY ALL").fetchall())
                if len(sources) > 1
                else {}
            )
            # One streaming pass computes the events and writes them: no intermediate
            # table of the whole batch.
            written = con.execute(
                f"COPY (SELECT {', '.join(EVENT_COLUMNS)} FROM ({decision.events})) "
                f"TO '{target}' {EVENT_FILE}",
                params,
            ).fetchall()[0][0]
            # Only a batch with records that did not become events can hold quarantine:
            # a new and clean one (the usual) skips this second pass over it.
            bad = (
                con.sql(
                    f"SELECT {', '.join(QUARANTINE_SCHEMA.names)} FROM ({decision.quarantine})",
                    params=params,
                ).to_arrow_table()
                if written < counts.read
                else QUARANTINE_SCHEMA.empty_table()
            )
        finally:
            con.unregister("batch")
        if written and self._repeats(target):
            # Re-sends inside one batch are rare: only then is the file rewritten with
            # one event of each id (costly at millions of rows, so not by default).
            written = self._keep_one_per_id(target, decision.one_per_id)
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
            con.execute(
                f"INSERT INTO {COMMITTED_IDS} SELECT event_id FROM read_parquet('{target}')"
            )
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

    def _keep_one_per_id(self, target: Path, one_per_id: str) -> int:
        first = target.with_suffix(".first.parquet")
        written = self.con.sql(
            f"""COPY (
                WITH {WRITTEN} AS (SELECT * FROM read_parquet('{target}'))
                SELECT {", ".join(EVENT_COLUMNS)} FROM ({one_per_id})
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
        with self.log.stamp() as (now, seq):
            commit = Commit(
                seq=seq,
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
        self.log._after_commit(commit)
        return commit
