"""Run the gate's checkpoint against the warehouse DuckDB, batch by batch.

GX 1.24 has no working DuckDB path, so each suite is fed pandas frames read from
DuckDB with only the columns the suite needs, `batch_rows` at a time from one scan
(every expectation of a mart suite is about one row: suites.ROW_LEVEL; uniqueness and
not-null are dbt's). Each batch runs the suite's validation definition with
`batch_parameters={"dataframe": df}`, and the results are summed per expectation.
Whole-table reconciliations are computed in SQL and asserted on their one-row result.

The committed GX context (`expectations/`) is copied to `<root>/gate/gx` before
each run, so validation results and Data Docs are written under the data
directory, never into the repository.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ingest.feeds.registry import Registry
from ingest.gate import carry
from ingest.gate.carry import CONTENT_CHANGED
from ingest.gate.config import GateConfig
from ingest.gate.parameters import expectation_parameters
from ingest.gate.reconcile import (
    held_back,
    reconciliation_sql,
)
from ingest.gate.result import Failure, GateResult, SuiteStats
from ingest.gate.suites import CHECKPOINT, RECONCILIATION, ROW_COUNTS
from ingest.sessions import connect, cursor, one, rows_and_hashes
from ingest.settings import Settings
from ingest.warehouse.sharing import mart_columns

MAX_EXAMPLES = 5


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def suite_columns(suite: Any) -> list[str]:
    columns: list[str] = []
    for expectation in suite.expectations:
        column = getattr(expectation, "column", None)
        if column and column not in columns:
            columns.append(column)
    return columns


def _suite_meta(suite: Any) -> dict[str, Any]:
    """Where a suite's rows come from (ingest.gate.suites)."""
    return (suite.meta or {}).get("peaceops", {})


def mart_frames(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: list[str],
    dates: list[str],
    batch_rows: int,
) -> Iterator[Any]:
    """The mart's needed columns as pandas frames of `batch_rows` rows (the last fewer; one
    empty frame for no rows), streamed from one scan: every expectation of a mart suite is
    about one row at a time (suites.ROW_LEVEL), so how the rows are split does not change a
    verdict."""
    import pyarrow as pa

    select = ", ".join(
        f"CAST({_quote(c)} AS TIMESTAMPTZ) AS {_quote(c)}" if c in dates else _quote(c)
        for c in columns
    )
    # a cursor of its own: the session may hold a result still open (DuckDB 2 then refuses
    # a relation on it), and the stream stays apart from what the gate asks meanwhile
    stream = cursor(con)
    try:
        reader = stream.sql(f"SELECT {select} FROM {relation}").to_arrow_reader(batch_rows)
        # DuckDB hands at most a row group (122,880 rows) per batch whatever is asked, and
        # each validation costs GX about 0.08 s however few its rows: gather to batch_rows
        pending: list[pa.RecordBatch] = []
        size = 0
        yielded = False
        for batch in reader:
            pending.append(batch)
            size += batch.num_rows
            while size >= batch_rows:
                table = pa.Table.from_batches(pending, reader.schema)
                yield table.slice(0, batch_rows).to_pandas()
                pending = table.slice(batch_rows).to_batches()
                size -= batch_rows
                yielded = True
        if size or not yielded:
            yield pa.Table.from_batches(pending, reader.schema).to_pandas()
    finally:
        stream.close()


def previous_row_counts(root: Path) -> dict[str, int]:
    """Rows per mart in the warehouse behind the currently published version."""
    from ingest.publish.reader import current_manifest

    data = current_manifest(root) or {}
    return {k: int(v) for k, v in (data.get("warehouse_row_counts") or {}).items()}


def row_count_frame(counts: dict[str, int], previous: dict[str, int]) -> Any:
    import pandas as pd

    rows = []
    for mart, n in counts.items():
        before = previous.get(mart)
        ratio = n / before if before else None  # no comparison without a previous count
        rows.append({"mart": mart, "rows": n, "previous_rows": before, "change_ratio": ratio})
    frame = pd.DataFrame(rows, columns=["mart", "rows", "previous_rows", "change_ratio"])
    frame["change_ratio"] = frame["change_ratio"].astype("float64")
    return frame


def _examples(result: dict[str, Any], frame: Any, kind: str) -> list[str]:
    if kind == ROW_COUNTS and frame is not None:
        import pandas as pd

        idx = result.get("partial_unexpected_index_list") or []
        out = []
        for i in idx[:MAX_EXAMPLES]:
            row = frame.iloc[i]
            before = row["previous_rows"]
            before = "?" if pd.isna(before) else f"{int(before):,}"
            out.append(f"{row['mart']}: {before} -> {int(row['rows']):,} rows")
        return out
    values = result.get("partial_unexpected_list")
    if values is None and "observed_value" in result:
        values = [result["observed_value"]]
    seen: list[str] = []
    for v in values or []:
        text = str(v)
        if text not in seen:
            seen.append(text)
        if len(seen) >= MAX_EXAMPLES:
            break
    return seen


class _Tally:
    """Sums one expectation's results over the batches of its suite."""

    def __init__(self, config: Any):
        self.type = config.type
        self.column = config.kwargs.get("column")
        self.success = True
        self.unexpected = 0
        self.elements = 0
        self.counted = False
        self.examples: list[str] = []
        self.message: str | None = None

    def add(self, r: Any, frame: Any, kind: str) -> None:
        result = dict(r.result or {})
        if not r.success:
            self.success = False
            for e in _examples(result, frame, kind):
                if e not in self.examples and len(self.examples) < MAX_EXAMPLES:
                    self.examples.append(e)
        if "unexpected_count" in result:
            self.counted = True
            self.unexpected += int(result.get("unexpected_count") or 0)
        self.elements += int(result.get("element_count") or 0)
        info = r.exception_info or {}
        if info.get("raised_exception"):
            self.success = False
            self.message = str(info.get("exception_message"))[:300]


def _context(root: Path, expectations: Path) -> Any:
    import great_expectations as gx

    target = root / "gate" / "gx"
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(expectations, target)
    return gx.get_context(mode="file", context_root_dir=str(target))


def _divergences(con: duckdb.DuckDBPyConnection) -> list[Failure]:
    """The marts whose incremental content differed from a full refresh of the same log
    when last compared (ingest.warehouse.verification); a warehouse never compared fails too."""
    from ingest.warehouse.verification import divergences

    found = divergences(con)
    if found is None:
        found = ["never compared with a full refresh"]
    fix = "rebuild it with `peaceops build --full-refresh`"
    return [
        Failure(
            "incremental_equals_full",
            f"marts.{line.split(':')[0]}" if ":" in line else None,
            "incremental build equals a full refresh",
            message=f"{line}; {fix}",
        )
        for line in found
    ]


def _earlier_passes(
    root: Path, state: Any, whole: bool
) -> tuple[dict[str, carry.Pass] | None, str | None]:
    """The passes this run may carry over, or (None, why every suite is checked)."""
    from ingest.warehouse.runner import INCREMENTAL

    if whole:
        return None, "every suite asked for (peaceops check --all)"
    if state is None:
        return None, "the warehouse does not say how it was built"
    if state.mode != INCREMENTAL:
        return None, f"a {state.mode} build"
    return carry.load(root)


def run_gate(
    root: Path,
    *,
    warehouse: Path | None = None,
    now: datetime | None = None,
    config: GateConfig | None = None,
    registry: Registry | None = None,
    data_docs: bool = True,
    on_suite: Callable[[SuiteStats], None] | None = None,
    settings: Settings | None = None,
    whole: bool = False,
) -> GateResult:
    """Validate the published marts of the warehouse of `root`; nothing is written but
    the run's GX context, results, Data Docs and record of passes under `<root>/gate/`.
    The mission's start comes from the registry (feeds.yaml). The log is reconciled as
    known at the moment the warehouse was built as of (its state.build).

    After an incremental build, a mart whose checked columns are unchanged since its last
    pass keeps that pass (ingest.gate.carry); `whole` validates every mart."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from ingest.warehouse.runner import PARTIAL, read_state, warehouse_path

    started = time.perf_counter()
    settings = settings or Settings.resolve(data_dir=root)
    config = config or settings.gate
    registry = registry or settings.registry
    mission_start = registry.mission.start
    now = (now or datetime.now(UTC)).astimezone(UTC)
    warehouse = warehouse or warehouse_path(root)
    result = GateResult(passed=False, warehouse=warehouse, checked_at=now.isoformat())
    if not warehouse.exists():
        result.failures.append(
            Failure("warehouse", None, "warehouse exists", message=f"no file at {warehouse}")
        )
        result.duration = time.perf_counter() - started
        return result

    context = _context(root, settings.expectations_dir)
    checkpoint = context.checkpoints.get(CHECKPOINT)
    result_format = checkpoint.result_format
    con = connect(warehouse, read_only=True)
    try:
        state = read_state(con)
        as_of = state.as_of if state is not None else None
        if state is not None:
            result.build_id = state.build_id
            result.as_of = state.as_of.isoformat()
            result.historical = state.historical
            if state.mode == PARTIAL:
                result.failures.append(
                    Failure(
                        "warehouse",
                        None,
                        "built whole",
                        message="the last build was partial (--select): build it whole first",
                    )
                )
            if not state.tested:
                # the gate leaves not-null, unique and the vocabularies to dbt's tests
                result.failures.append(
                    Failure(
                        "warehouse",
                        None,
                        "built with dbt's tests",
                        message=(
                            "dbt's tests did not run on every row (build --no-test, now or "
                            "since the last full refresh): build --full-refresh with its tests"
                            if state.tested is False
                            else "the warehouse does not say whether dbt's tests ran on its "
                            "rows: build --full-refresh"
                        ),
                    )
                )
            result.failures += _divergences(con)
        params = expectation_parameters(con, now, mission_start)
        passes, result.scope_reason = _earlier_passes(root, state, whole)
        result.scope = "all" if passes is None else "changed"
        passed: dict[str, carry.Pass] = {}
        marts_columns = mart_columns(con)  # all of a mart's: GateResult.contents
        suites_dir = settings.expectations_dir / "expectations"
        present = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "UNION ALL SELECT schema_name, view_name FROM duckdb_views()"
            ).fetchall()
        }
        # the published marts are the checkpoint's mart suites (ingest.gate.suites)
        for vd in checkpoint.validation_definitions:
            meta = _suite_meta(vd.suite)
            if meta.get("kind", "mart") == "mart" and meta.get("relation") in present:
                result.row_counts[vd.suite.name] = one(
                    con.execute(f"SELECT count(*) FROM {meta['relation']}")
                )[0]
        # a warehouse of a past moment is not compared with the current version's
        previous = {} if result.historical else previous_row_counts(root)
        for vd in checkpoint.validation_definitions:
            suite = vd.suite
            meta = _suite_meta(suite)
            kind = meta.get("kind", "mart")
            relation = meta.get("relation")
            stats = SuiteStats(suite.name, relation, expectations=len(suite.expectations))
            t0 = time.perf_counter()
            tallies = {e.id: _Tally(e.configuration) for e in suite.expectations}
            checked: carry.Pass | None = None  # what a mart suite's pass would be on
            try:
                if kind == "mart":
                    if relation not in present:
                        raise LookupError(f"table {relation} is missing from the warehouse")
                    stats.rows = result.row_counts[suite.name]
                    columns = suite_columns(suite)
                    every = [c for c, _ in marts_columns.get(suite.name, [])]
                    rows, (checked_sum, whole_sum) = rows_and_hashes(
                        con, relation, [columns, every]
                    )
                    result.contents[suite.name] = [rows, whole_sum]
                    checked = carry.Pass(
                        carry.suite_key(suites_dir / f"{suite.name}.json", params),
                        carry.content_digest(rows, checked_sum, columns),
                        now.isoformat(),
                        result.build_id,
                    )
                    frames: Iterator[Any] = iter([])
                    earlier = None if passes is None else passes.get(suite.name)
                    if passes is not None:
                        stats.reason = carry.carried(earlier, checked, now, config.recheck_hours)
                    if earlier is not None and stats.reason is None:
                        stats.carried_from = {
                            "checked_at": earlier.checked_at,
                            "build_id": earlier.build_id,
                        }
                        stats.reason = "its checked columns are unchanged since that pass"
                        checked = earlier
                    elif columns:  # a suite of no expectation (dbt checks it all) reads nothing
                        source, to_check = relation, stats.rows
                        rows_of = carry.checked_rows(root, suite.name, earlier, stats.reason)
                        if earlier is not None and rows_of is not None:
                            source = carry.changed_rows(relation, columns, rows_of)
                            to_check = one(con.execute(f"SELECT count(*) FROM {source}"))[0]
                            stats.rows_checked = to_check
                            stats.reason = (
                                f"{CONTENT_CHANGED}: the {to_check:,} rows unlike any that "
                                f"passed at {earlier.checked_at} checked"
                            )
                            checked = replace(
                                checked, whole_checked_at=earlier.whole_since.isoformat()
                            )
                        frames = mart_frames(
                            con, source, columns, meta.get("dates", []), config.batch_rows
                        )
                elif kind == RECONCILIATION:
                    frame = con.execute(reconciliation_sql(as_of)).df()
                    result.feeds = frame.to_dict("records")
                    result.held_back = held_back(frame)
                    # a held-back feed's unstaged events are its reason, not a failure;
                    # the log's own integrity is checked for every feed
                    frame.loc[
                        frame["feed_id"].isin(list(result.held_back)), "events_unaccounted"
                    ] = 0
                    frames = iter([frame])
                elif kind == ROW_COUNTS:
                    frames = iter([row_count_frame(result.row_counts, previous)])
                else:
                    raise ValueError(f"unknown suite kind {kind!r}")
                for frame in frames:
                    stats.batches += 1
                    if kind != "mart":
                        stats.rows += len(frame)
                    validation = vd.run(
                        batch_parameters={"dataframe": frame},
                        expectation_parameters=params,
                        result_format=result_format,
                    )
                    for r in validation.results:
                        tally = tallies.get(r.expectation_config.id)
                        if tally is not None:
                            tally.add(r, frame, kind)
                    del frame
            except Exception as err:  # a suite that cannot run fails the gate, with the reason
                result.failures.append(
                    Failure(
                        suite.name, relation, "suite runs", message=f"{type(err).__name__}: {err}"
                    )
                )
                stats.failed += 1
            for tally in tallies.values():
                if tally.success:
                    continue
                stats.failed += 1
                result.failures.append(
                    Failure(
                        suite=suite.name,
                        relation=relation,
                        expectation=tally.type,
                        column=tally.column,
                        unexpected_count=tally.unexpected if tally.counted else None,
                        element_count=tally.elements if tally.counted else None,
                        examples=tally.examples,
                        message=tally.message,
                    )
                )
            if checked is not None and not stats.failed:
                passed[suite.name] = checked
                if relation is not None and suite_columns(suite):
                    carry.save_rows(
                        con, root, suite.name, checked.content, relation, suite_columns(suite)
                    )
            stats.seconds = time.perf_counter() - t0
            result.stats[suite.name] = stats
            if on_suite is not None:
                on_suite(stats)
        carry.save(root, passed)
    finally:
        con.close()
    if data_docs:
        try:
            context.build_data_docs()
            index = root / "gate" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
            result.data_docs = index if index.exists() else None
        except Exception:  # docs are a convenience; the verdict does not depend on them
            result.data_docs = None
    result.passed = not result.failures
    result.duration = time.perf_counter() - started
    return result
