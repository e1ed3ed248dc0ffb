"""The pipeline's stages, one function each, on one resolved `Settings`: ingest, build,
check, publish (and `run`, the four in a row), replay, compact, prune, digest.

The CLI commands, the Airflow tasks (dags/), the demo and the bench all call these, so a
stage is configured and chained one way. Each returns its result object; with
`strict=True` (what Airflow wants, to retry and then fail the run) a failed stage raises
StageFailed instead. The top level stays light: the DAG files import this module at
parse time, and each stage's heavy imports (DuckDB, dbt, Great Expectations) happen
inside it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.settings import Settings

if TYPE_CHECKING:
    from ingest.feeds.pipeline import FeedResult, Progress
    from ingest.gate import GateResult
    from ingest.log.eventlog import Commit
    from ingest.warehouse.runner import BuildResult, NodeCallback

log = logging.getLogger(__name__)


class StageFailed(RuntimeError):
    """A pipeline stage reported failure; the message says which and why."""


class FeedFailed(StageFailed):
    """A feed's pull or load failed (its data is untouched; other feeds are unaffected)."""


class BuildFailed(StageFailed):
    """The dbt build failed; nothing is published."""


class GateFailed(StageFailed):
    """The quality gate did not pass; the last good version stays published."""


def ingest(
    settings: Settings,
    feed_id: str | None = None,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    on_feed: Callable[[str], None] | None = None,
    lock_timeout: float | None = None,
    strict: bool = False,
) -> list[FeedResult]:
    """Pull one feed (default: every feed of the registry) into the event log, each into
    its own load(s), with the settings' environment (feed URLs, credentials). A failed feed
    does not stop the others; `on_feed` is told each feed before it is pulled."""
    from ingest.feeds.pipeline import ingest_feed
    from ingest.feeds.registry import select

    results = []
    for feed in select(settings.registry.feeds, feed_id):
        if on_feed is not None:
            on_feed(feed.id)
        results.append(
            ingest_feed(
                feed,
                settings.data_dir,
                env=settings.env,
                now=now,
                progress=progress,
                lock_timeout=lock_timeout,
            )
        )
    failed = [r for r in results if not r.ok]
    if strict and failed:
        raise FeedFailed("; ".join(f"feed {r.feed_id}: {r.error}" for r in failed))
    return results


def replay(
    settings: Settings, feed_id: str, *, lock_timeout: float | None = None, strict: bool = False
) -> FeedResult:
    """Re-derive one feed's events from its landed payloads (ingest.feeds.replay)."""
    from ingest.feeds.replay import replay_feed

    result = replay_feed(
        settings.registry.feed(feed_id), settings.data_dir, lock_timeout=lock_timeout
    )
    if strict and not result.ok:
        raise FeedFailed(f"feed {feed_id}: {result.error}")
    return result


def build(
    settings: Settings,
    *,
    as_of: datetime | None = None,
    full_refresh: bool = False,
    select: str | None = None,
    test: bool = True,
    verify: bool = False,
    on_node: NodeCallback | None = None,
    on_step: Callable[[str], None] | None = None,
    strict: bool = False,
) -> BuildResult:
    """dbt seed + build on the committed log (ingest.warehouse.runner.build)."""
    from ingest.warehouse.runner import build as build_warehouse

    result = build_warehouse(
        settings.data_dir,
        settings=settings,
        as_of=as_of,
        full_refresh=full_refresh,
        select=select,
        test=test,
        verify=verify,
        on_node=on_node,
        on_step=on_step,
    )
    if strict and not result.ok:
        raise BuildFailed("dbt build failed:\n" + "\n".join(result.failures[:20]))
    return result


def check(settings: Settings, *, data_docs: bool = True, strict: bool = False) -> GateResult:
    """The quality gate (Great Expectations) on the warehouse."""
    from ingest.gate import run_gate

    gate = run_gate(settings.data_dir, settings=settings, data_docs=data_docs)
    if strict and not gate.passed:
        reasons = "; ".join(f.describe() for f in gate.failures[:10]) or "no reason recorded"
        raise GateFailed(f"quality gate failed, nothing published: {reasons}")
    return gate


def publish(settings: Settings, gate: GateResult) -> Path:
    """Publish the warehouse `gate` passed as a new version, switch `current` to it and
    keep `keep_versions` versions."""
    from ingest.publish.writer import publish as publish_version

    return publish_version(settings.data_dir, gate, keep=settings.keep_versions)


def prune(settings: Settings) -> list[Path]:
    """Delete published versions beyond the newest `keep_versions` (never `current`)."""
    from ingest.publish.writer import prune as prune_versions

    return prune_versions(settings.data_dir, settings.keep_versions)


@dataclass
class Compaction:
    feed_id: str
    files_before: int
    commit: Commit | None = None  # None: nothing to compact (or it failed)
    error: str | None = None


def compact(
    settings: Settings,
    feed_ids: Sequence[str] | None = None,
    *,
    min_files: int = 2,
    lock_timeout: float | None = None,
    strict: bool = False,
) -> list[Compaction]:
    """Merge each feed's small event files (default: every feed in the log). One feed's
    failure does not stop the others."""
    from ingest.log.eventlog import EventLog

    eventlog = EventLog(settings.data_dir)
    if feed_ids is None:
        feed_ids = sorted({c.feed_id for c in eventlog.commits()})
    done = []
    for feed_id in feed_ids:
        result = Compaction(feed_id, len(eventlog.live_files(feed_id)))
        try:
            result.commit = eventlog.compact(
                feed_id, min_files=min_files, lock_timeout=lock_timeout
            )
        except Exception as err:  # carry on: compaction of one feed is independent
            log.exception("compaction of %s failed", feed_id)
            result.error = f"{type(err).__name__}: {err}"
        done.append(result)
    errors = [f"{c.feed_id}: {c.error}" for c in done if c.error]
    if strict and errors:
        raise StageFailed("compaction failed for " + "; ".join(errors))
    return done


def digest_window(until: datetime | None) -> tuple[datetime, datetime]:
    """The digest's window: from midnight UTC of the day `until` falls in (an instant
    before it, so a run scheduled at midnight reports the day that just ended) to `until`."""
    end = (until or datetime.now(UTC)).astimezone(UTC)
    day = (end - timedelta(microseconds=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return day, end


def digest(settings: Settings, until: datetime | None = None) -> dict[str, Any]:
    """Write the quarantine digest of the loads committed on the day up to `until`."""
    from ingest.serve.digest import quarantine_digest, write_digest

    start, end = digest_window(until)
    report = quarantine_digest(settings.data_dir, list(settings.registry.feeds), start, end)
    paths = write_digest(settings.data_dir, report)
    return {"date": report["date"], "total": report["total"], "files": [str(p) for p in paths]}


# --- run: ingest, build, check, publish --------------------------------------


@dataclass
class RunSummary:
    stages: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    published: Path | None = None
    failed: list[str] = field(default_factory=list)  # stages, in order
    # per stage, the figures `run --json` prints (feeds, nodes, gate, version)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed_stage(self) -> str | None:
        """The last stage that failed: the one that stopped the run, if one did."""
        return self.failed[-1] if self.failed else None

    def to_json(self) -> dict[str, Any]:
        """What `peaceops run --json` prints: per stage ok, seconds, summary line and
        figures, in the order they ran; not run stages are absent."""
        return {
            "ok": self.ok,
            "failed_stage": self.failed_stage,
            "published": str(self.published) if self.published else None,
            "stages": {
                name: {
                    "ok": name not in self.failed,
                    "seconds": round(self.seconds[name], 3),
                    "summary": text,
                    **self.details.get(name, {}),
                }
                for name, text in self.stages.items()
            },
        }


def run(settings: Settings, *, console: Any = None) -> RunSummary:
    """Ingest, build, check and publish, as the Airflow DAGs do: a feed that fails is
    reported and the warehouse is built and published from the others; a failed build
    or check stops the run (a failed check publishes nothing). Progress goes to `console`
    (default: stderr)."""
    from rich.console import Console

    from ingest.commands.build import node_printer
    from ingest.commands.ingest import feed_json
    from ingest.gate.summary import format_summary

    console = console or Console(stderr=True)
    summary = RunSummary()

    def stage(title: str) -> float:
        console.rule(f"[bold]{title}")
        return time.perf_counter()

    def done(name: str, t0: float, ok: bool, text: str) -> bool:
        summary.seconds[name] = time.perf_counter() - t0
        summary.stages[name] = text
        if not ok:
            summary.failed.append(name)
        return ok

    t0 = stage("1/4 ingest: pull every feed into the event log")
    results = ingest(settings)
    for r in results:
        c = r.counts
        status = "ok" if r.ok else f"[red]FAILED: {r.error}[/]"
        console.print(
            f"  {r.feed_id:<20} read {c.read:>7,}  events {c.appended:>7,}  "
            f"duplicates {c.duplicates:>5,}  quarantined {c.quarantined:>4,}  {status}",
            highlight=False,
        )
    appended = sum(r.counts.appended for r in results)
    failed = [r.feed_id for r in results if not r.ok]
    summary.details["ingest"] = {"feeds": [feed_json(r) for r in results]}
    text = f"{len(results)} feeds, {appended:,} new events" + (
        f", failed: {', '.join(failed)}" if failed else ""
    )
    # Like the Airflow path: one feed down does not hold back what the others brought.
    done("ingest", t0, not failed, text)

    t0 = stage("2/4 build: dbt seed + build on the committed log")
    built = build(
        settings,
        on_node=node_printer(console),  # one line per node, as `build` prints
        on_step=lambda s: console.print(f"  dbt {s}", highlight=False),
    )
    summary.details["build"] = {
        "nodes": built.nodes,
        "as_of": built.as_of,
        "build_id": built.build_id,
        "failures": built.failures,
    }
    for failure in built.failures[:20]:
        console.print(f"  [red]{failure}[/]", highlight=False)
    text = f"{built.nodes} dbt nodes, as of {built.as_of}" + ("" if built.ok else ", FAILED")
    if not done("build", t0, built.ok, text):
        return _finish(console, summary)

    t0 = stage("3/4 check: the quality gate (Great Expectations)")
    gate = check(settings)
    console.print(format_summary(gate), highlight=False)
    summary.details["check"] = {"gate": gate.summary()}
    text = "passed" if gate.passed else f"FAILED ({len(gate.failures)} expectations)"
    if not done("check", t0, gate.passed, text):
        return _finish(console, summary)

    t0 = stage("4/4 publish: new version, atomic switch of current")
    version = publish(settings, gate)
    summary.published = version
    summary.details["publish"] = {"version": version.name, "historical": gate.historical}
    done("publish", t0, True, f"{version.name} ({', '.join(settings.audiences)})")
    return _finish(console, summary)


def _finish(console: Any, summary: RunSummary) -> RunSummary:
    console.rule("[bold]summary")
    for name in ("ingest", "build", "check", "publish"):
        if name in summary.stages:
            mark = "[red]FAILED[/]" if name in summary.failed else "[green]ok[/]"
            console.print(
                f"  {name:<8} {mark:<6} {summary.seconds[name]:6.1f}s  {summary.stages[name]}",
                highlight=False,
            )
        else:
            console.print(f"  {name:<8} [dim]not run[/]")
    if summary.failed_stage == "check":
        console.print("  nothing published: published/current is unchanged")
    elif "ingest" in summary.failed and summary.published is not None:
        console.print(
            "  published from the feeds that arrived; the failed ones go on at their next run"
        )
    return summary
