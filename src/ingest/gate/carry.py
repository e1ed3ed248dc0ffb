"""What the gate carries over: a mart's pass, kept while what it checked is unchanged.

After an incremental build the gate re-validates only the marts whose checked content
changed. Each run records, per mart suite that passed, what it passed on
(`<root>/gate/passes.json`): a digest of the columns the suite reads (rows, and the sum
of a hash of each row's values there, computed in SQL on the warehouse being checked)
and a key of everything else the verdict depends on (the suite's committed JSON, the
GX version and the run's expectation parameters but `now`). The next run carries a pass
over when its digest and key are the same, the pass is younger than `recheck_hours`
(expectations/gate.yml) and it was checked at a `now` no later than this run's (times
are checked against `now` from above only, so an unchanged row that was not in the
future then is not now). When only the digest differs, the rows do carry over: the pass
recorded the hash of each row it checked (`<root>/gate/rows/`), every expectation of the
gate is about one row at a time, so only rows with no equal among those are checked (at
10M events a new report's incident history: 12 s whole). `recheck_hours` counts from
the last check of every row. Everything else is checked.

Fail closed: a build other than an incremental one, a warehouse that does not say how
it was built, `peaceops check --all` (the maintenance DAG's daily run) and a missing or
unreadable record all mean every suite is checked. A carried pass is never silent: the
gate result names each suite carried over and the check it carried.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ingest.durable import atomic_write
from ingest.sql import ident, literal

FORMAT = 1


def record_path(root: Path) -> Path:
    return root / "gate" / "passes.json"


@dataclass(frozen=True)
class Pass:
    """A mart suite that passed: on what (content, key), when and on which build."""

    key: str
    content: str
    checked_at: str
    build_id: str | None
    # when every row was last checked, if before checked_at (rows carried since)
    whole_checked_at: str | None = None

    @property
    def whole_since(self) -> datetime:
        return datetime.fromisoformat(self.whole_checked_at or self.checked_at)


def content_digest(rows: int, total: str, columns: list[str]) -> str:
    """A relation's rows and the sum of a hash of each row's `columns` (as
    ingest.sessions.rows_and_hashes gives them), in one string: equal digests, equal
    values in those columns (order aside)."""
    return json.dumps([rows, total, columns])


def suite_key(suite_file: Path, parameters: dict[str, Any]) -> str:
    """What a suite's verdict depends on besides the rows: its committed definition, the
    GX version and the expectation parameters (vocabularies, bounds, mission start), but
    `now` (see the module's doc)."""
    import great_expectations as gx

    fixed = {k: v for k, v in parameters.items() if k != "now"}
    digest = hashlib.sha256(suite_file.read_bytes())
    digest.update(gx.__version__.encode())
    digest.update(json.dumps(fixed, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def load(root: Path) -> tuple[dict[str, Pass] | None, str | None]:
    """The passes of the last run, or (None, why they cannot be used)."""
    path = record_path(root)
    if not path.exists():
        return None, f"no record of earlier passes ({path.name})"
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            return None, f"{path.name} is of another format"
        passes = {name: Pass(**entry) for name, entry in data["passes"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        return None, f"{path.name} is unreadable ({type(err).__name__})"
    return passes, None


CONTENT_CHANGED = "its checked columns changed"


def carried(
    previous: Pass | None, current: Pass, now: datetime, recheck_hours: float
) -> str | None:
    """Why the pass `previous` does not carry over to a suite whose key and content are
    now `current`'s (None: it does)."""
    if previous is None:
        return "no earlier pass"
    if previous.key != current.key:
        return "its definition or parameters changed"
    if datetime.fromisoformat(previous.checked_at) > now:
        return "the earlier pass was checked at a later moment"
    if now - previous.whole_since >= timedelta(hours=recheck_hours):
        return f"the earlier pass is older than {recheck_hours:g} h"
    # last: only this reason lets the rows that did not change carry over (checked_rows)
    if previous.content != current.content:
        return CONTENT_CHANGED
    return None


def rows_path(root: Path, suite: str, content: str) -> Path:
    """The hashes of the rows a pass on `content` checked (one per row: of its checked
    columns, the hash `content_digest` sums)."""
    name = hashlib.sha256(content.encode()).hexdigest()[:16]
    return root / "gate" / "rows" / f"{suite}-{name}.parquet"


def checked_rows(root: Path, suite: str, previous: Pass | None, why: str | None) -> Path | None:
    """The rows the pass `previous` checked, when that pass would carry over but for
    changed content (`why`, from `carried`): every expectation of the gate is about one
    row at a time (between, in set, not null), so a row equal to one that passed passes
    again and only the others need checking. None: check every row."""
    if previous is None or why != CONTENT_CHANGED:
        return None
    path = rows_path(root, suite, previous.content)
    return path if path.is_file() else None


def changed_rows(relation: str, columns: list[str], checked: Path) -> str:
    """`relation`'s rows whose checked columns are not those of a row in `checked`, as a
    relation to select from."""
    row = ", ".join(ident(c) for c in columns)
    return (
        f"(SELECT * FROM {relation} WHERE hash({row}) NOT IN "
        f"(SELECT h FROM read_parquet({literal(str(checked))}))) AS changed"
    )


def save_rows(
    con: duckdb.DuckDBPyConnection, root: Path, suite: str, content: str, relation: str,
    columns: list[str],
) -> None:  # fmt: skip
    """Record the rows of a pass on `content` (rows_path), in place of the suite's
    earlier record; a record that cannot be written means every row is checked next."""
    path = rows_path(root, suite, content)
    if path.is_file():
        return
    tmp = path.with_name(f".{path.name}.tmp")
    row = ", ".join(ident(c) for c in columns)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT hash({row}) AS h FROM {relation}) TO {literal(str(tmp))} "
            "(FORMAT parquet)"
        )
        os.replace(tmp, path)
    except (OSError, duckdb.Error):
        tmp.unlink(missing_ok=True)
        return
    for old in path.parent.glob(f"{suite}-*.parquet"):
        if old != path:
            old.unlink(missing_ok=True)


def save(root: Path, passes: dict[str, Pass]) -> None:
    """Replace the record atomically (a reader sees the old one or the new one); one that
    cannot be written is removed, so the next run checks everything."""
    path = record_path(root)
    data = {"format": FORMAT, "passes": {n: asdict(p) for n, p in sorted(passes.items())}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (json.dumps(data, indent=1) + "\n").encode())
    except OSError:
        path.unlink(missing_ok=True)
