"""What "known at a moment" means is written twice: in Python (ingest.log.eventlog.known_at_sql, which
`EventLog.select_sql` and the reconciliation use) and in dbt (macros `known_at_as_of`,
`events_as_of`, which cannot call Python). On a log with back-dated, late and retired
loads, both select the same events at every moment where the answer changes, and at a
tick either side; a change to either copy alone fails here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.feeds.decide import decide
from ingest.feeds.envelope import envelope_sql
from ingest.feeds.registry import Feed
from ingest.gate.reconcile import as_of_filter
from ingest.log.eventlog import EventLog
from ingest.sessions import connect
from ingest.warehouse.runner import AS_OF_ENV
from tests import dbt_macros
from tests.conftest import append, batch

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def events_as_of(moment: datetime, relation: str) -> str:
    """dbt's `events_as_of(relation)` as a full build renders it, as of `moment`."""
    module = dbt_macros.macros(
        env_var=lambda name, default=None: moment.isoformat() if name == AS_OF_ENV else default,
        execute=True,
        is_incremental=lambda: False,
    )
    return module.events_as_of(relation)


@pytest.fixture
def log(tmp_path: Path, feed: Feed) -> EventLog:
    """Loads known now, back-dated to before others, and a replay retiring one."""
    log = EventLog(tmp_path)
    _, first = append(log, feed, [{"id": "A", "when": "2026-10-30", "text": "old"}], T0)
    append(log, feed, [{"id": "B", "when": "2026-10-31"}], T0 + timedelta(hours=2))
    # back-dated: committed after B, known from before it
    append(log, feed, [{"id": "C", "when": "2026-10-31"}], T0 + timedelta(hours=1))
    with log.begin(feed.id, T0 + timedelta(hours=3)) as replay:
        replay.retire([first.load_id])
        b = batch([{"id": "A", "when": "2026-10-30", "text": "new"}])
        sql = envelope_sql(feed, b.column_names, "batch", source_sha256="r", load_id=replay.load_id)
        replay.store(decide(sql), b, source={"sha256": "r", "name": "t"})
        replay.commit()
    append(log, feed, [{"id": "D", "when": "2026-11-01"}])  # known from its commit: now
    return log


def test_python_and_dbt_select_the_same_events_at_every_moment(log: EventLog) -> None:
    con = connect()
    # the warehouse's view: every event with its load's known_at and retired_at
    con.execute(f"CREATE VIEW events AS {log.select_sql(include_retired=True)}")
    retired = log.retired()
    marks = {c.known for c in log.commits()} | set(retired.values())
    moments = sorted({m + d for m in marks for d in (-TICK, timedelta(0), TICK)})
    answers = set()
    for moment in moments:

        def ids(sql: str) -> list[str]:
            return sorted(r[0] for r in con.sql(f"SELECT event_id FROM ({sql})").fetchall())

        python = ids(log.select_sql(as_of_time=moment))
        assert ids(events_as_of(moment, "events")) == python, moment
        assert ids(f"SELECT event_id FROM events {as_of_filter(moment)}") == python, moment
        answers.add(tuple(python))
    # the log is rich enough to tell the copies apart: many different answers
    assert len(answers) >= 5
