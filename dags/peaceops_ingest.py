"""One ingest DAG per feed in feeds.yaml: pull the feed into one atomic load of the event log;
and one replay DAG per feed, triggered by hand after a mapping fix.

Parse-time work is reading feeds.yaml (YAML parse only); the pipeline's heavy
imports happen inside the task. Each run writes only its own feed's load, so the
DAGs of different feeds run in parallel. The task's outlet is the feed's Asset
(`peaceops://eventlog/<feed_id>`), updated only when the load committed
something, with the load id and counts as the asset event's extra.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Asset, Param, dag, task
from peaceops_policy import (
    DAGRUN_TIMEOUT,
    EXECUTION_TIMEOUT,
    INGEST_RETRIES,
    START_DATE,
    default_args,
    feed_asset_uri,
    ingest_dag_id,
    on_failure,
    replay_dag_id,
)

from ingest.feeds.registry import Feed
from ingest.settings import Settings

DOC = """
### Ingest `{id}`: {name}

Agency **{agency}**, `{kind}` feed, format `{format}`, schedule `{schedule}`,
default releasability `{releasability}`. Pulls everything new since the last
committed load into one atomic load (`ingest.feeds.pipeline.ingest_feed`).

- Feed URL and credentials come from the environment, Airflow connection
  `{conn}` or Variable `peaceops_feeds_url`, never from code.
- A failing pull retries with exponential backoff, then fails this DAG only;
  `peaceops status` shows the feed as failing / stale, the warehouse keeps
  building from the other feeds.
- A run with nothing new is *skipped* and emits no asset event.
- `recorded_at`: now, or the end of the data interval for backfill runs, or the
  `recorded_at` param (ISO time) when given.
"""


def make_ingest_dag(feed: Feed) -> DAG:
    """The ingest DAG of one feed."""
    asset = Asset(uri=feed_asset_uri(feed.id), name=f"eventlog.{feed.id}", group="peaceops")

    @dag(
        dag_id=ingest_dag_id(feed.id),
        description=f"Ingest {feed.name}",
        schedule=feed.schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # loads of one feed serialise on its lock anyway
        dagrun_timeout=DAGRUN_TIMEOUT["ingest"],
        on_failure_callback=on_failure,
        tags=["peaceops", "ingest", f"agency:{feed.agency}", f"format:{feed.format}"],
        doc_md=DOC.format(
            id=feed.id,
            name=feed.name,
            agency=feed.agency,
            kind=feed.kind,
            format=feed.format,
            schedule=feed.schedule,
            releasability=feed.releasability,
            conn=feed.credentials_conn or "-",
        ),
        params={
            "recorded_at": Param(
                None,
                type=["null", "string"],
                description="Record the load as learnt at this UTC time (ISO); empty = default.",
            )
        },
        default_args=default_args(feed.owner, INGEST_RETRIES),
    )
    def ingest_dag() -> None:
        @task(task_id="ingest", outlets=[asset], execution_timeout=EXECUTION_TIMEOUT["ingest"])
        def ingest(
            outlet_events: Any = None,
            dag_run: Any = None,
            params: Any = None,
            data_interval_end: Any = None,
        ) -> dict[str, Any]:
            from airflow.sdk.exceptions import AirflowSkipException
            from peaceops_policy import feed_env, ingest_summary, recorded_at_for

            from ingest import stages

            # Resolved again with the feed's env completed from Airflow: feeds.yaml may
            # name its URL through a variable that only an Airflow Variable sets.
            base = Settings.resolve()
            settings = Settings.resolve(feed_env(base.registry.feed(feed.id), base.env))
            now = recorded_at_for(
                getattr(dag_run, "run_type", None),
                data_interval_end,
                (params or {}).get("recorded_at"),
            )
            (result,) = stages.ingest(settings, feed.id, now=now, strict=True)
            summary = ingest_summary(settings, result)
            if summary["load_id"] is None:
                # Nothing new: no asset event, so the warehouse is not rebuilt for nothing.
                raise AirflowSkipException(f"{feed.id}: nothing new")
            outlet_events[asset].extra = {
                "load_id": summary["load_id"],
                "recorded_at": summary["recorded_at"],
                "known_at": summary["known_at"],
                **summary["counts"],
            }
            return summary

        ingest()

    return ingest_dag()


REPLAY_DOC = """
### Replay `{id}`

Triggered by hand, never scheduled. Re-derives the feed's events from every payload it
landed, under feeds.yaml as it is now (`ingest.feeds.replay.replay_feed`): one new load that
retires the feed's earlier loads. Run it after fixing the feed's mapping; its Asset event
starts the warehouse DAG, whose build sees the changed contract and rebuilds in full.
"""


def make_replay_dag(feed: Feed) -> DAG:
    """The replay DAG of one feed (manual)."""
    asset = Asset(uri=feed_asset_uri(feed.id), name=f"eventlog.{feed.id}", group="peaceops")

    @dag(
        dag_id=replay_dag_id(feed.id),
        description=f"Replay {feed.name} from its landed payloads",
        schedule=None,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=DAGRUN_TIMEOUT["replay"],
        on_failure_callback=on_failure,
        tags=["peaceops", "replay", f"agency:{feed.agency}"],
        doc_md=REPLAY_DOC.format(id=feed.id),
        # a failed replay commits nothing: safe to retry
        default_args=default_args(feed.owner, INGEST_RETRIES),
    )
    def replay_dag() -> None:
        @task(task_id="replay", outlets=[asset], execution_timeout=EXECUTION_TIMEOUT["replay"])
        def replay(outlet_events: Any = None) -> dict[str, Any]:
            from dataclasses import asdict

            from ingest import stages

            result = stages.replay(Settings.resolve(), feed.id, strict=True)
            summary = {"feed_id": feed.id, "load_id": result.load_id, **asdict(result.counts)}
            outlet_events[asset].extra = summary
            return {**summary, "notes": result.notes}

        replay()

    return replay_dag()


for _feed in Settings.resolve().registry.feeds:
    make_ingest_dag(_feed)
    make_replay_dag(_feed)
