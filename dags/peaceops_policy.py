"""Airflow policy of the PeaceOps DAGs: ids, asset URIs, pools, retries, timeouts, the
failure hook and where a task finds its feed URL and credentials in Airflow.

It lives beside the DAG files, not in the `ingest` package: the package's stages
(ingest.stages) know nothing of Airflow, and the DAG files only wire those stages to
this policy. Airflow puts the DAGs folder on sys.path (its bundle DagBag) when it
parses a DAG file or runs a task, so the DAG files import this module by name;
dags/.airflowignore keeps the parser from looking for DAGs in it. Its top level does
no I/O: the DAG files import it at parse time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.feeds.pipeline import FeedResult
    from ingest.feeds.registry import Feed
    from ingest.settings import Settings

log = logging.getLogger(__name__)

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
# Every task that writes DuckDB or swaps published files takes the one slot of this pool.
DUCKDB_POOL = "peaceops_duckdb"
PUBLISHED_ASSET_URI = "peaceops://published/current"
FEEDS_URL_VARIABLE = "peaceops_feeds_url"
# The feed server's base URL, as feeds.yaml's `${PEACEOPS_FEEDS_URL}` reads it.
FEEDS_URL_ENV = "PEACEOPS_FEEDS_URL"

# Retries: a feed that is down for a while should not page anyone on its first
# failure, but must fail its run within about half an hour (1 + 2 + 4 + 8 min).
INGEST_RETRIES = 4
# The warehouse and maintenance steps: a lock held by a long build, a full disk freed.
RETRIES = 2
RETRY_DELAY = timedelta(minutes=1)
RETRY_BACKOFF = 2.0  # Airflow 3: multiplier of the delay per retry
MAX_RETRY_DELAY = timedelta(minutes=30)

# A task that hangs (a feed that stops answering mid-page, a lock never released) fails
# at its timeout and is retried, instead of holding its pool slot and its DAG forever.
# Bounds: several times the bench's figures at 10M events.
EXECUTION_TIMEOUT = {
    "ingest": timedelta(minutes=45),
    "replay": timedelta(hours=2),
    "build": timedelta(hours=2),
    "gate": timedelta(hours=1),
    "gate_all": timedelta(hours=2),
    "publish": timedelta(minutes=30),
    "compact": timedelta(hours=1),
    "prune": timedelta(minutes=15),
    "quarantine_digest": timedelta(minutes=15),
}
# A run ends by then, retries included, so the next scheduled run is not blocked
# (max_active_runs=1) behind one stuck for good.
DAGRUN_TIMEOUT = {
    "ingest": timedelta(hours=4),
    "replay": timedelta(hours=8),
    "warehouse": timedelta(hours=8),
    "maintenance": timedelta(hours=4),
}

# [peaceops] on_failure_callback = "package.module.function" (or the environment variable
# AIRFLOW__PEACEOPS__ON_FAILURE_CALLBACK) replaces the default hook, which logs one line.
CALLBACK_SECTION, CALLBACK_KEY = "peaceops", "on_failure_callback"


def feed_asset_uri(feed_id: str) -> str:
    return f"peaceops://eventlog/{feed_id}"


def ingest_dag_id(feed_id: str) -> str:
    return f"peaceops_ingest.{feed_id}"


def replay_dag_id(feed_id: str) -> str:
    return f"peaceops_replay.{feed_id}"


def default_args(owner: str, retries: int = RETRIES) -> dict[str, Any]:
    """A DAG's default_args: owner, retries with exponential backoff, the failure hook."""
    return {
        "owner": owner,
        "retries": retries,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": RETRY_BACKOFF,
        "max_retry_delay": MAX_RETRY_DELAY,
        "on_failure_callback": on_failure,
    }


def failure_line(context: Mapping[str, Any]) -> str:
    """One line naming the DAG, the task (when a task failed) and the error."""
    dag = context.get("dag")
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(dag, "dag_id", None) or getattr(ti, "dag_id", "?")
    where = f"{dag_id}.{ti.task_id}" if ti is not None else dag_id
    error = context.get("exception") or context.get("reason") or "no error recorded"
    return f"peaceops: {where} failed: {error}"


def on_failure(context: Mapping[str, Any]) -> None:
    """The failure hook of every task and DAG: the configured callable (see
    CALLBACK_KEY, looked up when a failure happens, so changing it needs no re-parse),
    else one log line."""
    from airflow.sdk import conf
    from airflow.sdk.module_loading import import_string

    target = conf.get(CALLBACK_SECTION, CALLBACK_KEY, fallback="")
    if target:
        import_string(target)(context)
    else:
        log.error(failure_line(context))


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
    except Exception:  # not in a task, or no such entry: the env is the fallback
        return None


def feed_env(feed: Feed, base: Mapping[str, str]) -> dict[str, str]:
    """The environment a feed's pull sees in a task: `base`, completed from Airflow.

    The connector reads credentials from the env var named in feeds.yaml or from
    `AIRFLOW_CONN_<ID>`; a connection kept in Airflow's metadata DB (UI, CLI) is passed
    on in that variable's JSON form, and the feed server's base URL may come from the
    Airflow Variable `peaceops_feeds_url`. Nothing is looked up when `base` already has it.
    """
    env = dict(base)
    if FEEDS_URL_ENV not in env and (url := _airflow_lookup("variable", FEEDS_URL_VARIABLE)):
        env[FEEDS_URL_ENV] = str(url)
    if feed.credentials_conn and not (feed.credentials_env and env.get(feed.credentials_env)):
        var = f"AIRFLOW_CONN_{feed.credentials_conn.upper()}"
        if not env.get(var) and (conn := _airflow_lookup("connection", feed.credentials_conn)):
            env[var] = json.dumps({"login": conn.login, "password": conn.password})
    return env


def ingest_summary(settings: Settings, result: FeedResult) -> dict[str, Any]:
    """An ingest task's XCom (and, but for `loads`, its asset event's extra): the last
    load id (None when the feed had nothing new), every load the run committed, the
    counts, and the times the load itself recorded in its commit (not estimates)."""
    from ingest.log.eventlog import Commit, EventLog

    c = result.counts
    recorded_at = known_at = None
    if result.load_id is not None:
        commit = Commit.read(EventLog(settings.data_dir).commits_dir / f"{result.load_id}.json")
        recorded_at, known_at = commit.recorded_at, commit.known.isoformat()
    return {
        "feed_id": result.feed_id,
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
