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
future then is not now). Everything else is checked.

Fail closed: a build other than an incremental one, a warehouse that does not say how
it was built, `peaceops check --all` (the maintenance DAG's daily run) and a missing or
unreadable record all mean every suite is checked. A carried pass is never silent: the
gate result names each suite carried over and the check it carried.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ingest.durable import atomic_write
from ingest.sessions import rows_and_hash

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


def content_digest(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> str:
    """Rows of `relation` and the sum of a hash of each row's `columns`: equal digests,
    equal values in those columns (order aside)."""
    return json.dumps([*rows_and_hash(con, relation, columns), columns])


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


def carried(
    previous: Pass | None, current: Pass, now: datetime, recheck_hours: float
) -> str | None:
    """Why the pass `previous` does not carry over to a suite whose key and content are
    now `current`'s (None: it does)."""
    if previous is None:
        return "no earlier pass"
    if previous.key != current.key:
        return "its definition or parameters changed"
    if previous.content != current.content:
        return "its checked columns changed"
    checked = datetime.fromisoformat(previous.checked_at)
    if checked > now:
        return "the earlier pass was checked at a later moment"
    if now - checked >= timedelta(hours=recheck_hours):
        return f"the earlier pass is older than {recheck_hours:g} h"
    return None


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
