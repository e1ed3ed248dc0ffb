"""Publish the checked warehouse: one immutable version per run, switched in atomically.

Layout (`<root>/published/`):

    <version>/                  version = UTC time, e.g. 20261126T221003.123456Z (sorts by time)
      manifest.json             version, as_of (historical: built as of a past moment), the
                                loads the build read and per-feed high-water marks, row
                                counts, sha256 of every file, gate summary, dbt invocation id
      public/ partners/ mission/
        unified.duckdb          the marts the audience may see (tables in `main`, commented)
        datapackage.json        Frictionless Data Package: every table and column described
        parquet/<mart>.parquet
        csv/<mart>.csv          HXL-tagged exports (fct_aid_deliveries, coverage gaps)
    current -> <version>        a relative symlink, replaced atomically

Audiences (DESIGN.md): public < partners < mission < restricted. A row goes to
every audience at or above its releasability (a `partners` row to partners and
mission); `restricted` rows never leave the build.

Aggregates (docs/need-to-know.md): a mart with `content_releasability` releases its
rows' counts and codes at `releasability` (the aggregate rule, applied in dbt) and its
record-content columns (MartSpec.content) only to audiences at or above
`content_releasability`; below it they are null. The content is withheld per row
rather than per audience so that a row all of whose sources an audience may see keeps
its lineage there.

Free text and names below mission level: every mart column is declared in its dbt
YAML (read through `ingest.warehouse.sharing`); public and partners outputs get only
declared columns, less the mission-only ones and anything named like free text (description, notes,
summary, value, contact, ...). Those columns are dropped, not scrubbed. Scrubbing
would need to recognise person names in free text in several languages, which no
maintained rule-based PyPI library does reliably: Presidio and scrubadub need spaCy
or NLTK models downloaded at run time (not possible here), and regex scrubbers
catch e-mails and phone numbers but not "Capt. Mbeki reported ...". A column that
is not there cannot leak; the mission audience keeps everything.

Atomicity: a version is written whole into `.tmp-<version>/`, every file and
directory fsynced, the manifest written last, the directory renamed to `<version>`,
and only then `current` is switched by `os.replace` of a fresh symlink. A reader
that resolves `current` once (os.path.realpath) and reads inside that directory
sees one complete version, old or new. A failed gate publishes nothing and leaves
`current` untouched.

Carry-over: each version's manifest records, per audience and mart, a key of what was
written (`marts`): a digest of the warehouse mart's rows (count and sum of a hash of
every row, as the gate read them), its column names and types, the audience's SELECT
(columns, filters, held-back feeds), the HXL tags, the output format and DuckDB's
version. A mart whose key is the
previous version's is not written again: its Parquet and CSV files are hard links to the
previous version's (versions are immutable), with their recorded sha256. An audience's
unified.duckdb is linked when every mart is carried over; when some are, it is a copy of
the previous one with the changed tables dropped and created again (or appended to, when
every row they had is still the audience's: `appended` in the manifest), kept only if no
block of the dropped tables is left unused after its checkpoint (DuckDB does not zero
freed blocks: a reclassified row of the previous version must not linger in the file),
else written afresh.

What is published is the warehouse the gate checked: publish holds the file by a hard
link for its whole run (a build that finishes meanwhile renames a new file over
`build.duckdb`, the linked one stays), and refuses a warehouse whose build is not the
one checked. Everything the manifest says of the data comes from that file: the moment
it was built as of and the loads it read (`state.build`, `eventlog.loads`). A
historical build (`build --as-of`) is published as a version labelled historical;
`current` keeps pointing at the newest knowledge.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ingest.durable import fsync_dir, holder_lock
from ingest.gate.result import GateResult
from ingest.log.eventlog import sql_time
from ingest.publish.prefetch import Prefetch
from ingest.publish.reader import (
    CURRENT,
    DB_NAME,
    MANIFEST,
    current_version,
    published_dir,
    versions,
)
from ingest.releasability import AUDIENCES
from ingest.sessions import connect, one, rows_and_hash
from ingest.sql import ident, literal
from ingest.warehouse.sharing import SCHEMA, MartSpec, mart_columns, published_marts

FORMULA_START = "^[=+\\-@\t\r]"
# What write_audience writes for the same rows: bump when that changes, so that no file
# of an older format is carried over.
OUTPUT_FORMAT = 1


class GateNotPassed(RuntimeError):
    """Publishing was asked for a warehouse whose gate failed, or that the gate did not
    check."""


@contextlib.contextmanager
def _lock(root: Path) -> Iterator[None]:
    base = published_dir(root)
    base.mkdir(parents=True, exist_ok=True)
    with holder_lock(base / ".lock", "the published versions"):
        yield


def _new_version(base: Path, now: datetime) -> str:
    now = now.astimezone(UTC)
    while True:
        name = f"{now:%Y%m%dT%H%M%S.%f}Z"
        if not (base / name).exists() and all(name > p.name for p in versions(base.parent)):
            return name
        now += timedelta(microseconds=1)


def _fsync_tree(path: Path) -> None:
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sums(folder: Path, known: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file under `folder` by its relative path, in path order;
    `known`: those of files carried over from the previous version, not read again. The
    others are hashed side by side (hashlib lets go of the GIL): 7.5 s -> 3.8 s for 11 GB
    on two cores."""
    paths = {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}
    new = [rel for rel in paths if rel not in known]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        sums = dict(zip(new, pool.map(sha256_file, (paths[rel] for rel in new)), strict=True))
    return {
        rel: known[rel] if rel in known else {"sha256": sums[rel], "bytes": path.stat().st_size}
        for rel, path in paths.items()
    }


def _select(
    spec: MartSpec, audience: str, actual: list[str], held_back: Collection[str] = ()
) -> tuple[list[str], str] | None:
    """(column expressions, WHERE) of what `audience` gets of a mart, or None for nothing
    at all. Rows of feeds the gate held back are left out of every audience."""
    allowed = AUDIENCES[audience]
    levels = ", ".join(literal(v) for v in allowed)
    if audience == "mission":
        shown = list(actual)
    else:
        shared = set(spec.shared_columns(audience))
        shown = [c for c in actual if c in shared]
    columns = [ident(c) for c in shown]
    if "content_releasability" in actual:
        # Record content of a row released under the aggregate rule stays with the
        # audiences of its sources; an undeclared mart's columns are all content.
        # content_releasability itself too: a level above the audience's is not its business
        content = set(spec.content) | {"content_releasability"} if spec.is_aggregate else set(shown)
        content -= {"releasability"}
        columns = [
            f"CASE WHEN content_releasability IN ({levels}) THEN {ident(c)} END AS {ident(c)}"
            if c in content
            else ident(c)
            for c in shown
        ]
    where = []
    if held_back and "feed_id" in actual:
        where.append(f"feed_id NOT IN ({', '.join(literal(f) for f in sorted(held_back))})")
    if held_back and "source_record_keys" in actual:
        # a unified row stays if one of its sources is from a feed that publishes
        held = "[" + ", ".join(literal(f) for f in sorted(held_back)) + "]"
        where.append(
            f"len(list_filter(source_record_keys, lambda k: NOT list_contains({held}, "
            "split_part(k, ':', 1)))) > 0"
        )
    if "releasability" in actual:
        where.append(f"releasability IN ({levels})")
    elif spec.implicit_releasability not in allowed:
        return None
    return columns, ("WHERE " + " AND ".join(where)) if where else ""


def _defuse(expr: str) -> str:
    """Spreadsheet formula injection: a text cell starting with = + - @ (or tab/CR)
    is prefixed with a single quote."""
    return (
        f"CASE WHEN regexp_matches({expr}, {literal(FORMULA_START)}) "
        f"THEN '''' || {expr} ELSE {expr} END"
    )


def write_hxl_csv(
    con: duckdb.DuckDBPyConnection, table: str, hxl: dict[str, str], out: Path
) -> None:
    """Header row, HXL hashtag row, then the rows; text cells defused."""
    import csv

    described = con.execute(f"DESCRIBE main.{ident(table)}").fetchall()
    columns = [(name, dtype) for name, dtype, *_ in described]
    exprs = []
    for name, dtype in columns:
        col = ident(name)
        if dtype.endswith("[]"):
            joined = f"array_to_string({col}, ';')"
            exprs.append(f"{_defuse(joined)} AS {col}")
        elif dtype.startswith("TIMESTAMP"):
            exprs.append(f"strftime({col}, '%Y-%m-%dT%H:%M:%SZ') AS {col}")
        elif dtype == "VARCHAR":
            exprs.append(f"{_defuse(col)} AS {col}")
        else:
            exprs.append(col)
    body = out.with_name(out.name + ".body")
    con.execute(
        f"COPY (SELECT {', '.join(exprs)} FROM main.{ident(table)}) TO {literal(str(body))} "
        "(FORMAT csv, HEADER false)"
    )
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([name for name, _ in columns])
        writer.writerow([hxl.get(name, "") for name, _ in columns])
        with open(body, encoding="utf-8") as src:
            shutil.copyfileobj(src, fh)
    body.unlink()


@dataclass
class Previous:
    """The version published before, as far as carrying its files over needs it."""

    path: Path
    keys: dict[str, dict[str, str]]
    files: dict[str, dict[str, Any]]
    row_counts: dict[str, dict[str, int]]

    @classmethod
    def load(cls, version: Path | None) -> Previous | None:
        if version is None or not (version / MANIFEST).exists():
            return None
        manifest = json.loads((version / MANIFEST).read_text())
        if not manifest.get("marts"):  # published before carry-over: nothing to reuse
            return None
        return cls(version, manifest["marts"], manifest["files"], manifest["row_counts"])


@dataclass
class Written:
    """One audience as written: rows and key per mart, and the files linked from the
    previous version (path relative to the version -> its manifest entry)."""

    counts: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    linked: dict[str, dict[str, Any]] = field(default_factory=dict)
    # marts whose table in a reused database was appended to rather than written again
    appended: list[str] = field(default_factory=list)


def mart_digests(
    con: duckdb.DuckDBPyConnection,
    columns: dict[str, list[tuple[str, str]]],
    marts: tuple[MartSpec, ...],
    known: dict[str, list[Any]] | None = None,
) -> dict[str, str]:
    """Per mart of `wh`: rows, columns with their types and the sum of a hash of every
    row, in one string; equal digests, equal rows (order aside). `known`: rows and sum per
    mart as the gate read them from this very build (GateResult.contents), not read again."""
    out = {}
    for spec in marts:
        typed = columns.get(spec.name)
        if not typed:
            continue
        if known and spec.name in known:
            rows, total = known[spec.name]
        else:
            relation = f"wh.{SCHEMA}.{ident(spec.name)}"
            rows, total = rows_and_hash(con, relation, [c for c, _ in typed])
        out[spec.name] = json.dumps([rows, total, typed])
    return out


def _key(audience: str, spec: MartSpec, select: str, digest: str, doc: Any) -> str:
    parts = [OUTPUT_FORMAT, duckdb.__version__, audience, spec.name, select, spec.hxl, digest]
    parts.append(doc)  # its dictionary: new words are new comments in unified.duckdb
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def write_audience(
    warehouse: Path,
    out: Path,
    audience: str,
    held_back: Collection[str] = (),
    marts: tuple[MartSpec, ...] | None = None,
) -> dict[str, int]:
    """Write one audience's unified.duckdb, Parquet and HXL CSVs; returns rows per mart
    (of `marts`, default: as the dbt project declares them)."""
    marts = published_marts() if marts is None else marts
    return _write_audience(warehouse, out, audience, held_back, marts).counts


def _write_audience(
    warehouse: Path,
    out: Path,
    audience: str,
    held_back: Collection[str],
    marts: tuple[MartSpec, ...],
    previous: Previous | None = None,
    digests: dict[str, str] | None = None,
    docs: dict[str, dict[str, Any]] | None = None,
    reuse_database: bool = True,
    prefetched: Prefetch | None = None,
) -> Written:
    """One audience's files, those of marts unchanged since `previous` carried over
    (`digests`: mart_digests of the warehouse; None: write everything), its tables
    commented with `docs` (ingest.publish.dictionary.mart_docs; None: no comments).
    `prefetched`: a copy of the previous version's unified.duckdb under way, taken if the
    audience starts from it, else given up."""
    (out / "parquet").mkdir(parents=True)
    (out / "csv").mkdir()
    written = Written()
    con = connect()
    try:
        con.execute(f"ATTACH {literal(str(warehouse))} AS wh (READ_ONLY)")
        columns = mart_columns(con, "wh")
        selects: dict[str, str] = {}
        for spec in marts:
            actual = [c for c, _ in columns.get(spec.name, [])]
            chosen = _select(spec, audience, actual, held_back) if actual else None
            if chosen is None:
                continue
            selects[spec.name] = (
                f"SELECT {', '.join(chosen[0])} FROM wh.{SCHEMA}.{ident(spec.name)} {chosen[1]}"
            )
            if digests is not None:
                written.keys[spec.name] = _key(
                    audience,
                    spec,
                    selects[spec.name],
                    digests[spec.name],
                    (docs or {}).get(spec.name),
                )
    finally:
        con.close()
    before = previous.keys.get(audience, {}) if previous else {}
    counted = previous.row_counts.get(audience, {}) if previous else {}
    spec_of = {spec.name: spec for spec in marts}
    # a file of the previous version gone (removed by hand) is written again
    carried = {
        m
        for m, k in written.keys.items()
        if previous is not None
        and before.get(m) == k
        and all((previous.path / audience / rel).is_file() for rel in _files(spec_of[m]))
    }

    def link(rel: str) -> None:
        """The previous version's file (only files this function writes: never one a
        later step could open for writing, which would change the previous version)."""
        assert previous is not None
        os.link(previous.path / audience / rel, out / rel)
        written.linked[f"{audience}/{rel}"] = previous.files[f"{audience}/{rel}"]

    if (
        previous is not None
        and carried == set(selects) == set(before)
        and (previous.path / audience / DB_NAME).is_file()
    ):
        # nothing changed for this audience: its database is the previous version's too
        link(DB_NAME)
    database = out / DB_NAME
    reuse = reuse_database and bool(carried) and not database.exists()
    if prefetched is not None and not reuse:
        prefetched.cancel()
    if database.exists():
        for name in selects:
            for rel in _files(spec_of[name]):
                link(rel)
        written.counts = {m: counted[m] for m in selects}
        return written
    # the previous file less the tables of marts that changed (or went), but for those
    # that only gained rows: their new rows are appended
    additions = (
        _reuse_database(previous, audience, database, carried, prefetched, warehouse, selects)
        if reuse
        else None
    )
    reused = additions is not None
    con = connect(database)
    try:
        con.execute(f"ATTACH {literal(str(warehouse))} AS wh (READ_ONLY)")
        for name, select in selects.items():
            spec = spec_of[name]
            files = _files(spec)
            if name in carried:
                for rel in files:
                    link(rel)
                written.counts[name] = counted[name]
                if not reused:
                    # carried over as files, but this database is new: the table again
                    con.execute(f"CREATE TABLE main.{ident(name)} AS {select}")
                continue
            if additions is not None and name in additions:
                if additions[name]:
                    con.execute(f"INSERT INTO main.{ident(name)} {additions[name]}")
                written.appended.append(name)
            else:
                con.execute(f"CREATE TABLE main.{ident(name)} AS {select}")
            count = one(con.execute(f"SELECT count(*) FROM main.{ident(name)}"))
            written.counts[name] = count[0]
            parquet = out / files[0]
            con.execute(f"COPY main.{ident(name)} TO {literal(str(parquet))} (FORMAT parquet)")
            if spec.hxl:
                write_hxl_csv(con, name, spec.hxl, out / files[1])
        if docs is not None:
            from ingest.publish.dictionary import comment_tables

            # a table carried over in a reused file keeps its comments: its key has its docs
            comment_tables(con, docs, set(selects) - carried if reused else None)
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
        overwritten = not reused or _overwrite_free_blocks(con)
    finally:
        con.close()
    if not overwritten:
        # blocks of the dropped tables not all overwritten: this audience's files afresh
        shutil.rmtree(out)
        return _write_audience(
            warehouse, out, audience, held_back, marts, previous, digests, docs, False
        )
    return written


def _overwrite_free_blocks(con: duckdb.DuckDBPyConnection, rounds: int = 4) -> bool:
    """Overwrite the database's unused blocks (those of dropped tables that the new ones
    did not reuse) with filler: DuckDB does not zero a freed block, and rows that left an
    audience must not linger in its file. True when none was left unwritten."""
    free, block_size = one(
        con.execute("SELECT free_blocks, block_size FROM pragma_database_size()")
    )
    fillers: list[str] = []
    # hashes do not compress: 8 bytes a row, a tenth of the time of random text; a
    # checkpoint frees the metadata blocks it rewrites, so another round may be needed
    while free and len(fillers) < rounds:
        name = f"main.__filler{len(fillers)}"
        rows = free * block_size // 8
        con.execute(f"CREATE TABLE {name} AS SELECT hash(range) AS x FROM range({rows})")
        fillers.append(name)
        con.execute("CHECKPOINT")
        free = one(con.execute("SELECT free_blocks FROM pragma_database_size()"))[0]
    for name in fillers:
        con.execute(f"DROP TABLE {name}")
    con.execute("CHECKPOINT")
    return not free


def _files(spec: MartSpec) -> list[str]:
    """A mart's files in an audience's folder besides unified.duckdb."""
    return [f"parquet/{spec.name}.parquet", *([f"csv/{spec.name}.csv"] if spec.hxl else [])]


def _reuse_database(
    previous: Previous | None,
    audience: str,
    database: Path,
    carried: set[str],
    prefetched: Prefetch | None,
    warehouse: Path,
    selects: dict[str, str],
) -> dict[str, str] | None:
    """Start `database` as the previous version's (copied, or `prefetched`), less its
    tables not carried over but for those `_added_rows` can append to; returns the SELECT
    of the rows to append per table kept so, or None (and no file) when there is no
    previous database to start from."""
    source = previous.path / audience / DB_NAME if previous else None
    if source is None or not source.exists():
        return None  # a copy under way is given up with the others (_cancel)
    if prefetched is not None:
        prefetched.take(database)
    else:
        shutil.copyfile(source, database)
    additions: dict[str, str] = {}
    con = connect(database)
    try:
        con.execute(f"ATTACH {literal(str(warehouse))} AS wh (READ_ONLY)")
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        for table in sorted(tables - carried):
            added = _added_rows(con, table, selects[table]) if table in selects else None
            if added is None:
                con.execute(f"DROP TABLE main.{ident(table)}")
            else:
                additions[table] = added
        con.execute("DETACH wh")
        # freed blocks are reused by what is written next only after a checkpoint
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if not carried <= tables:
        database.unlink()
        return None
    return additions


def _added_rows(con: duckdb.DuckDBPyConnection, table: str, select: str) -> str | None:
    """When `select` (of `wh`) has every row of main.`table` (rows were only added, as by
    a new report that is an incident of its own, or none for this audience), the SELECT
    of the rows to append ("" for none); None when a row of the table is gone or changed,
    or a column: the table is then written afresh, as no block of a row that left the
    audience may stay in its file. Rows are compared by a hash of all their columns: a row
    gone whose hash a new row has too (one chance in 2^64 a pair) would stay, as a carried
    mart's sum of hashes would."""
    columns = con.execute(f"DESCRIBE main.{ident(table)}").fetchall()
    if [c[:2] for c in columns] != [c[:2] for c in con.execute(f"DESCRIBE {select}").fetchall()]:
        return None
    row_hash = f"hash({', '.join(ident(c[0]) for c in columns)})"
    gone, partly, added = one(
        con.execute(
            "SELECT count(*) FILTER (WHERE before > after), "
            "count(*) FILTER (WHERE before > 0 AND after > before), "
            "count(*) FILTER (WHERE before = 0) "
            "FROM (SELECT h, count(*) FILTER (WHERE NOT new) AS before, "
            "count(*) FILTER (WHERE new) AS after FROM ("
            f"SELECT {row_hash} AS h, false AS new FROM main.{ident(table)} "
            f"UNION ALL SELECT {row_hash} AS h, true AS new FROM ({select})) GROUP BY h)"
        )
    )
    if gone or partly:  # partly: more copies of a row than before, which marts never have
        return None
    if not added:
        return ""
    return (
        f"SELECT * FROM ({select}) WHERE {row_hash} NOT IN "
        f"(SELECT {row_hash} FROM main.{ident(table)})"
    )


def loads_read(con: duckdb.DuckDBPyConnection, as_of: datetime | None) -> list[dict[str, Any]]:
    """The loads the warehouse attached as `wh` was built from: those of its build's
    snapshot known at its moment, with whether a replay it read had retired them."""
    moment = "CAST(NULL AS TIMESTAMPTZ)" if as_of is None else sql_time(as_of)
    cursor = con.execute(
        "SELECT load_id, feed_id, kind, strftime(known_at, '%Y-%m-%dT%H:%M:%S.%f+00:00') "
        "AS known_at, strftime(committed_at, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS committed_at, "
        "strftime(recorded_at, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS recorded_at, events_appended, "
        f"retired_at IS NOT NULL AND retired_at <= coalesce({moment}, retired_at) AS retired "
        f"FROM wh.eventlog.loads WHERE known_at <= coalesce({moment}, known_at) ORDER BY load_id"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def high_water_marks(loads: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per feed, of `loads` (loads_read): the last load, how many loads and how many
    events they appended (of loads no replay retired)."""
    marks: dict[str, dict[str, Any]] = {}
    for load in loads:
        mark = marks.setdefault(load["feed_id"], {"loads": 0, "events_appended": 0})
        mark["loads"] += 1
        mark.update({k: load[k] for k in ("load_id", "known_at", "committed_at", "recorded_at")})
        if load["kind"] in ("load", "replay") and not load["retired"]:
            mark["events_appended"] += int(load["events_appended"])
    return marks


@contextlib.contextmanager
def pinned(warehouse: Path) -> Iterator[Path]:
    """The warehouse file as it is now, for as long as the block runs: a hard link to it
    (a build renaming a new file over `warehouse` meanwhile leaves the linked one)."""
    link = warehouse.with_name(f".publish-{secrets.token_hex(4)}.duckdb")
    os.link(warehouse, link)
    try:
        yield link
    finally:
        link.unlink()


def publish(
    root: Path,
    gate: GateResult,
    *,
    keep: int | None = None,
    now: datetime | None = None,
) -> Path:
    """Publish the warehouse the gate checked as a new version and switch `current` to it
    (unless it is historical: built as of a moment asked for).

    Raises GateNotPassed (and touches nothing) unless `gate.passed` and the warehouse is
    still the build the gate checked. Returns the new version's directory. Versions beyond
    the newest `keep` are pruned (see `prune`).
    """
    root = Path(root)
    if not gate.passed:
        reasons = "; ".join(f.describe() for f in gate.failures[:5]) or "no reason recorded"
        raise GateNotPassed(f"the quality gate failed, nothing published: {reasons}")
    from ingest.warehouse.runner import warehouse_path

    warehouse = gate.warehouse or warehouse_path(root)
    with _lock(root):
        # links of publishes killed before they removed theirs (we hold the lock)
        for stale in warehouse.parent.glob(".publish-*.duckdb"):
            stale.unlink()
        with pinned(warehouse) as pin:
            return _publish(root, gate, pin, kept(keep), now)


def _publish(
    root: Path, gate: GateResult, warehouse: Path, keep: int, now: datetime | None
) -> Path:
    from ingest.publish.dictionary import describe_audience, mart_docs
    from ingest.warehouse.runner import built_state, dbt_target_path

    state = built_state(warehouse)
    built = state.build_id if state is not None else None
    if built != gate.build_id:
        raise GateNotPassed(
            f"the warehouse was rebuilt after the gate checked it (checked build {gate.build_id}, "
            f"now {built}); nothing published: check it again"
        )
    as_of = state.as_of if state is not None else None
    historical = state is not None and state.historical
    base = published_dir(root)
    # the newest version, whose unchanged marts this one carries over
    previous = Previous.load(versions(root)[-1] if versions(root) else None)
    version = _new_version(base, now or datetime.now(UTC))
    tmp = base / f".tmp-{version}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # the previous databases copied while the digests say which audiences start from them
    prefetched = {
        aud: Prefetch(previous.path / aud / DB_NAME, tmp / f".{aud}.{DB_NAME}")
        for aud in AUDIENCES
        if previous is not None and (previous.path / aud / DB_NAME).is_file()
    }
    try:
        con = connect()
        try:
            con.execute(f"ATTACH {literal(str(warehouse))} AS wh (READ_ONLY)")
            loads = loads_read(con, as_of)
            marts = published_marts(root)
            # the gate's sums are of this build: its build id is the one checked above
            digests = mart_digests(con, mart_columns(con, "wh"), marts, gate.contents)
        finally:
            con.close()
        docs = mart_docs(dbt_target_path(root))
        written = {
            aud: _write_audience(
                warehouse,
                tmp / aud,
                aud,
                gate.held_back,
                marts,
                previous,
                digests,
                docs,
                prefetched=prefetched.get(aud),
            )
            for aud in AUDIENCES
        }
        _cancel(prefetched)  # each audience took or gave up its own: none is left in tmp
        for aud in AUDIENCES:  # the dictionary beside the data (ingest.publish.dictionary)
            describe_audience(tmp / aud, aud, docs, version, marts)
        row_counts = {aud: w.counts for aud, w in written.items()}
        appended = {aud: w.appended for aud, w in written.items() if w.appended}
        linked = {rel: info for w in written.values() for rel, info in w.linked.items()}
        files = file_sums(tmp, linked)
        manifest = {
            "version": version,
            "created_at": datetime.now(UTC).isoformat(),
            "as_of": as_of.isoformat() if as_of else gate.checked_at,
            # built as of a moment asked for: `current` does not switch to it
            "historical": historical,
            "build": {
                "build_id": built,
                "mode": state.mode if state else None,
                "built_at": state.built_at.isoformat() if state else None,
            },
            "dbt_invocation_id": state.invocation_id if state else None,
            # exactly the loads the build read, and per feed the last of them
            "event_high_water_marks": high_water_marks(loads),
            "loads": [load["load_id"] for load in loads],
            "warehouse_row_counts": gate.row_counts,
            "row_counts": row_counts,
            # per audience and mart, what its files were written from (carry-over)
            "marts": {aud: w.keys for aud, w in written.items()},
            # per audience, the marts whose table in the reused database only gained rows,
            # appended there (their files are written whole)
            "appended": appended,
            "audiences": {a: list(levels) for a, levels in AUDIENCES.items()},
            "files": files,
            "gate": gate.summary(),
            # feeds left out of this version, with why (ingest.gate.reconcile.held_back)
            "held_back_feeds": gate.held_back,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _fsync_tree(tmp)
        final = base / version
        os.rename(tmp, final)
        fsync_dir(base)
    except BaseException:
        _cancel(prefetched)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not historical:
        switch_current(root, version)
    _prune(root, keep)
    return final


def _cancel(prefetched: dict[str, Prefetch]) -> None:
    for copy in prefetched.values():
        copy.cancel()


def switch_current(root: Path, version: str) -> None:
    """Point `current` at `version` with one atomic rename of a fresh symlink."""
    base = published_dir(root)
    link = base / f".current-{secrets.token_hex(4)}"
    os.symlink(version, link)
    os.replace(link, base / CURRENT)
    fsync_dir(base)


def _prune(root: Path, keep: int) -> list[Path]:
    keep = max(1, keep)
    current = current_version(root)
    all_versions = versions(root)
    removed = []
    for path in all_versions[: max(0, len(all_versions) - keep)]:
        if current is not None and path.resolve() == current:
            continue
        shutil.rmtree(path)
        removed.append(path)
    # Debris of a publish that died before its rename (we hold the lock: nobody writes).
    for debris in published_dir(root).glob(".tmp-*"):
        shutil.rmtree(debris, ignore_errors=True)
    for debris in published_dir(root).glob(".current-*"):
        debris.unlink(missing_ok=True)
    return removed


def kept(keep: int | None) -> int:
    """Versions to keep: `keep`, else the one setting, keep_versions in
    expectations/gate.yml (the CLI, Airflow and the maintenance DAG all end here)."""
    from ingest.settings import Settings

    return Settings.resolve(keep_versions=keep).keep_versions


def prune(root: Path, keep: int | None = None) -> list[Path]:
    """Delete all but the newest `keep` versions (never the current one); returns them."""
    with _lock(Path(root)):
        return _prune(Path(root), kept(keep))
