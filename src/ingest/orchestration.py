"""What the Airflow tasks call: thin, Airflow-free wrappers around the pipeline stages.

The DAG files in `dags/` import this module at parse time, so its top level stays
light (stdlib and `ingest.feeds.registry` only); every stage's heavy imports (DuckDB,
dbt, Great Expectations) happen inside the functions, in the task's process.

Each function raises when its stage failed, so Airflow retries the task and,
after the last retry, fails that DAG run only. The same functions run without
Airflow, which is how the unit tests call them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.feeds.registry import Feed, Registry, load_registry
from ingest.paths import REPO

log = logging.getLogger(__name__)

PROJECT_DIR = REPO
# Every task that writes DuckDB or swaps published files takes the one slot of this pool.
DUCKDB_POOL = "peaceops_duckdb"
PUBLISHED_ASSET_URI = "peaceops://published/current"
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
FEEDS_URL_VARIABLE = "peaceops_feeds_url"

# Retries: a feed that is down for a while should not page anyone on its first
# failure, but must fail its run within about half an hour (1 + 2 + 4 + 8 min).
INGEST_RETRIES = 4
RETRY_DELAY = timedelta(minutes=1)
RETRY_BACKOFF = 2.0  # Airflow 3: multiplier of the delay per retry
MAX_RETRY_DELAY = timedelta(minutes=30)


class StageFailed(RuntimeError):
    """A pipeline stage reported failure; the message says which and why."""


class FeedFailed(StageFailed):
    """A feed's pull or load failed (its data is untouched; other feeds are unaffected)."""


class BuildFailed(StageFailed):
    """The dbt build failed; nothing is published."""


class GateFailed(StageFailed):
    """The quality gate did not pass; the last good version stays published."""


# --- where things are --------------------------------------------------------


def registry_path(env: Mapping[str, str] | None = None) -> Path:
    """feeds.yaml: PEACEOPS_FEEDS, else the project's own (never relative to the CWD,
    which under Airflow is wherever the worker started)."""
    env = os.environ if env is None else env
    return Path(env.get("PEACEOPS_FEEDS") or PROJECT_DIR / "feeds.yaml").absolute()


def data_root(env: Mapping[str, str] | None = None) -> Path:
    """The data directory: PEACEOPS_DATA_DIR, else the project's `data/`."""
    env = os.environ if env is None else env
    return Path(env.get("PEACEOPS_DATA_DIR") or PROJECT_DIR / "data").absolute()


def pin_paths(env: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """Make PEACEOPS_FEEDS and PEACEOPS_DATA_DIR absolute in the task's environment, so
    stages that read them (and the CWD-relative defaults) agree with this module."""
    env = os.environ if env is None else env
    root = data_root(env)
    env.setdefault("PEACEOPS_DATA_DIR", str(root))
    env.setdefault("PEACEOPS_FEEDS", str(registry_path(env)))
    return root


def load_project(env: Mapping[str, str] | None = None) -> Registry:
    """The registry, parsed: the only file the DAG files read at parse time."""
    env = os.environ if env is None else env
    return load_registry(registry_path(env), data_root(env), env)


def load_feeds(env: Mapping[str, str] | None = None) -> list[Feed]:
    return list(load_project(env).feeds)


def feed_asset_uri(feed_id: str) -> str:
    return f"peaceops://eventlog/{feed_id}"


def ingest_dag_id(feed_id: str) -> str:
    return f"peaceops_ingest.{feed_id}"


def replay_dag_id(feed_id: str) -> str:
    return f"peaceops_replay.{feed_id}"


# --- ingest ------------------------------------------------------------------


def recorded_at_for(
    run_type: str | None,
    interval_end: datetime | None,
    requested: str | None = None,
) -> datetime | None:
    """The `recorded_at` of a run's load (None = the wall clock at load time).

    An explicit `recorded_at` (run conf / param) wins. A backfill run replays what
    the hub should have learnt on schedule, so it records at the end of its data
    interval; every other run records when it actually runs.
    """
    if requested:
        value = datetime.fromisoformat(requested.strip().replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if run_type == "backfill" and interval_end is not None:
        return interval_end.astimezone(UTC)
    return None


def _airflow_lookup(kind: str, key: str) -> Any:
    """A connection or variable from Airflow, or None outside a task / when missing."""
    try:
        if kind == "connection":
            from airflow.sdk import Connection

            return Connection.get(key)
        from airflow.sdk import Variable

        return Variable.get(key, default=None)
    except Exception:  # not in a task, no such entry, or no Airflow: the env is the fallback
        return None


def feed_env(
    feed: Feed, base: Mapping[str, str] | None = None, *, from_airflow: bool = False
) -> dict[str, str]:
    """The environment a feed's pull sees: the process env, completed from Airflow.

    The connector reads credentials from the env var named in feeds.yaml or from
    `AIRFLOW_CONN_<ID>`; with `from_airflow` (inside a task), a connection kept in
    Airflow's metadata DB (UI, CLI) is passed on in that variable's JSON form, and
    the feed server's base URL may come from the Airflow Variable
    `peaceops_feeds_url`. Nothing is looked up when the environment already has it
    (outside a task a lookup costs seconds of Airflow start-up, so none is tried).
    """
    env = dict(os.environ if base is None else base)
    if not from_airflow:
        return env
    if "PEACEOPS_FEEDS_URL" not in env and (url := _airflow_lookup("variable", FEEDS_URL_VARIABLE)):
        env["PEACEOPS_FEEDS_URL"] = str(url)
    if feed.credentials_conn and not (feed.credentials_env and env.get(feed.credentials_env)):
        var = f"AIRFLOW_CONN_{feed.credentials_conn.upper()}"
        if not env.get(var) and (conn := _airflow_lookup("connection", feed.credentials_conn)):
            env[var] = json.dumps({"login": conn.login, "password": conn.password})
    return env


def run_ingest(
    feed_id: str,
    *,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    from_airflow: bool = False,
) -> dict[str, Any]:
    """Ingest one feed (one load, or one every few pages of an API); raise FeedFailed
    when it failed.

    The registry is parsed again with the run's environment, so a feed URL changed
    since the DAG file was parsed takes effect. Returns the last load id (None when
    the feed had nothing new), every load the run committed (a paged pull commits
    every few pages) and their counts.
    """
    from ingest.feeds.pipeline import ingest_feed
    from ingest.feeds.registry import select
    from ingest.log.eventlog import Commit, EventLog

    base = dict(os.environ if env is None else env)
    root = root or data_root(base)
    run_env = feed_env(select(load_feeds(base), feed_id)[0], base, from_airflow=from_airflow)
    # Parsed again: the completed env may carry a feed URL from an Airflow Variable.
    feed = select(load_feeds({**run_env, "PEACEOPS_DATA_DIR": str(root)}), feed_id)[0]
    result = ingest_feed(feed, root, env=run_env, now=now)
    if not result.ok:
        raise FeedFailed(f"feed {feed_id}: {result.error}")
    c = result.counts
    recorded_at = known_at = None
    if result.load_id is not None:
        # The times the load itself recorded (its commit record), not estimates.
        commit = Commit.read(EventLog(root).commits_dir / f"{result.load_id}.json")
        recorded_at, known_at = commit.recorded_at, commit.known.isoformat()
    return {
        "feed_id": feed_id,
        "load_id": result.load_id,
        "loads": result.loads,
        "sources": result.sources,
        "counts": {
            "read": c.read,
            "appended": c.appended,
            "duplicates": c.duplicates,
            "quarantined": c.quarantined,
        },
        "recorded_at": recorded_at,
        "known_at": known_at,
    }


def run_replay(feed_id: str, *, root: Path | None = None) -> dict[str, Any]:
    """Re-derive one feed's events from its landed payloads (ingest.feeds.replay); raise
    FeedFailed when it failed."""
    from dataclasses import asdict

    from ingest.feeds.registry import select
    from ingest.feeds.replay import replay_feed

    root = root or data_root()
    feed = select(load_feeds({**os.environ, "PEACEOPS_DATA_DIR": str(root)}), feed_id)[0]
    result = replay_feed(feed, root)
    if not result.ok:
        raise FeedFailed(f"feed {feed_id}: {result.error}")
    return {
        "feed_id": feed_id,
        "load_id": result.load_id,
        "notes": result.notes,
        **asdict(result.counts),
    }


# --- warehouse, gate, publish ------------------------------------------------


def run_build(root: Path | None = None) -> dict[str, Any]:
    """dbt seed + build on the committed log; raise BuildFailed on any failed node."""
    from ingest.warehouse.runner import build

    root = root or data_root()
    result = build(root, registry=load_project(), on_step=lambda s: log.info("dbt %s", s))
    summary = {
        "ok": result.ok,
        "as_of": result.as_of,
        "invocation_id": result.invocation_id,
        "nodes": result.nodes,
        "seconds": round(result.seconds, 1),
        "failures": result.failures[:20],
    }
    if not result.ok:
        raise BuildFailed("dbt build failed:\n" + "\n".join(result.failures[:20]))
    return summary


def run_gate_check(root: Path | None = None) -> dict[str, Any]:
    """Run the Great Expectations gate; raise GateFailed when it did not pass.

    Returns the GateResult as JSON-safe data, for the publish task (XCom).
    """
    from ingest.gate import run_gate

    root = root or data_root()
    gate = run_gate(root, registry=load_project())
    if not gate.passed:
        reasons = "; ".join(f.describe() for f in gate.failures[:10]) or "no reason recorded"
        raise GateFailed(f"quality gate failed, nothing published: {reasons}")
    return json.loads(gate.to_json())


def run_publish(
    gate: Mapping[str, Any], root: Path | None = None, *, keep: int | None = None
) -> dict[str, Any]:
    """Publish the warehouse the gate checked as a new version and switch `current` to it
    (what it was built from, its manifest reads from the warehouse itself); `keep`: default
    keep_versions in expectations/gate.yml, as on the command line."""
    from ingest.gate import GateResult
    from ingest.publish.writer import publish

    path = publish(root or data_root(), GateResult.from_dict(dict(gate)), keep=keep)
    return {"version": Path(path).name, "path": str(path)}


# --- maintenance -------------------------------------------------------------


def run_compaction(root: Path | None = None, feed_ids: list[str] | None = None) -> dict[str, int]:
    """Merge each feed's small event files; returns files merged per feed (0 = nothing to do).

    One feed's failure does not stop the others; it is raised at the end.
    """
    from ingest.log.eventlog import EventLog

    root = root or data_root()
    if feed_ids is None:
        feed_ids = [f.id for f in load_feeds()]
    eventlog = EventLog(root)
    merged: dict[str, int] = {}
    errors: list[str] = []
    for feed_id in feed_ids:
        try:
            commit = eventlog.compact(feed_id)
        except Exception as err:  # carry on: compaction of one feed is independent
            log.exception("compaction of %s failed", feed_id)
            errors.append(f"{feed_id}: {type(err).__name__}: {err}")
            continue
        merged[feed_id] = len(commit.removes) if commit else 0
    if errors:
        raise StageFailed("compaction failed for " + "; ".join(errors))
    return merged


def run_prune(root: Path | None = None, keep: int | None = None) -> list[str]:
    """Delete published versions beyond the newest `keep` (never `current`; default:
    keep_versions in expectations/gate.yml)."""
    from ingest.publish.writer import prune

    return [str(p) for p in prune(root or data_root(), keep)]


def digest_window(until: datetime | None) -> tuple[datetime, datetime]:
    """The digest's window: from midnight UTC of the day `until` falls in (an instant
    before it, so a run scheduled at midnight reports the day that just ended) to `until`."""
    end = (until or datetime.now(UTC)).astimezone(UTC)
    day = (end - timedelta(microseconds=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return day, end


def run_digest(
    until: datetime | None = None, root: Path | None = None, feeds: list[Feed] | None = None
) -> dict[str, Any]:
    """Write the quarantine digest of the loads committed on the day up to `until`."""
    from ingest.serve.digest import quarantine_digest, write_digest

    start, end = digest_window(until)
    root = root or data_root()
    digest = quarantine_digest(root, feeds if feeds is not None else load_feeds(), start, end)
    paths = write_digest(root, digest)
    return {"date": digest["date"], "total": digest["total"], "files": [str(p) for p in paths]}
