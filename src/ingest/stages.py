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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


def check(
    settings: Settings, *, data_docs: bool = True, whole: bool = False, strict: bool = False
) -> GateResult:
    """The quality gate (Great Expectations) on the warehouse: after an incremental build the
    marts it changed (the others keep their last pass, ingest.gate.carry); `whole`: every
    mart (`peaceops check --all`, the maintenance DAG)."""
    from ingest.gate import run_gate

    gate = run_gate(settings.data_dir, settings=settings, data_docs=data_docs, whole=whole)
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
