"""Reconciliation of the warehouse with the event log, per feed: every committed event
is behind a fact or in a record that was retracted or excluded, and every feed's loads
balance. The gate checks it; a build reports it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingest.gate.marts import FACTS, FOLDED, SCHEMA
from ingest.log.eventlog import known_at_sql, known_sql, live_sql

RECONCILIATION_SQL = """
WITH committed AS (
    SELECT DISTINCT feed_id, event_id FROM eventlog.events {as_of_filter}
),
facts AS (
    {facts}
),
folded AS (
    {folded}
),
removed AS (
    SELECT DISTINCT event_id FROM folded WHERE is_retracted OR is_excluded
),
-- one pass over the log and the lineage: a fact's event the log does not hold is a row
-- with no committed side
joined AS MATERIALIZED (
    SELECT
        committed.feed_id,
        committed.event_id IS NOT NULL AS is_committed,
        facts.event_id IS NOT NULL AS in_facts,
        removed.event_id IS NOT NULL AS is_removed
    FROM committed
    FULL JOIN facts ON committed.event_id = facts.event_id
    LEFT JOIN removed ON committed.event_id = removed.event_id
),
per_feed AS (
    SELECT
        feed_id,
        count(*) AS events_committed,
        count(*) FILTER (WHERE in_facts) AS events_in_facts,
        count(*) FILTER (WHERE is_removed) AS events_retracted_or_excluded,
        count(*) FILTER (WHERE NOT in_facts AND NOT is_removed) AS events_unaccounted,
        count(*) FILTER (WHERE in_facts AND is_removed) AS fact_events_also_removed
    FROM joined
    WHERE is_committed
    GROUP BY feed_id
),
loads AS (
    SELECT
        feed_id,
        sum(records_read - events_appended - duplicates - quarantined) AS unbalanced,
        sum(events_appended) FILTER (WHERE {live}) AS appended
    FROM eventlog.loads WHERE kind IN ('load', 'replay') AND {known}
    GROUP BY feed_id
),
feeds AS (
    SELECT feed_id FROM per_feed UNION SELECT feed_id FROM loads
    UNION SELECT feed_id FROM registry.feeds
)
SELECT
    feeds.feed_id,
    coalesce(registry.entity, '(not in feeds.yaml)') AS entity,
    coalesce(per_feed.events_committed, 0) AS events_committed,
    coalesce(per_feed.events_in_facts, 0) AS events_in_facts,
    coalesce(per_feed.events_retracted_or_excluded, 0) AS events_retracted_or_excluded,
    coalesce(per_feed.events_unaccounted, 0) AS events_unaccounted,
    coalesce(per_feed.fact_events_also_removed, 0) AS fact_events_also_removed,
    coalesce(loads.unbalanced, 0) AS load_counts_unbalanced,
    coalesce(loads.appended, 0) - coalesce(per_feed.events_committed, 0) AS appended_not_committed,
    -- of all feeds (no feed to pin them on), on every row
    (SELECT count(*) FROM joined WHERE NOT is_committed) AS fact_events_not_committed
FROM feeds
LEFT JOIN registry.feeds AS registry ON feeds.feed_id = registry.feed_id
LEFT JOIN per_feed ON feeds.feed_id = per_feed.feed_id
LEFT JOIN loads ON feeds.feed_id = loads.feed_id
ORDER BY feeds.feed_id
"""


def as_of_filter(as_of: datetime | None) -> str:
    """Events known at `as_of` (None: the live ones), as every reader of the log selects
    them (ingest.log.eventlog.known_at_sql)."""
    return f"WHERE {known_at_sql(as_of)}"


def facts_sql() -> str:
    return "\n    UNION\n    ".join(
        f"SELECT unnest(source_event_ids) AS event_id FROM {SCHEMA}.{m}" for m in FACTS
    )


def reconciliation_sql(as_of: datetime | None = None) -> str:
    """Per feed: every committed event (as known at `as_of`) is behind a fact or belongs to
    a record that was retracted or excluded (listed in normalisation_issues); nothing else.

    Lineage (`source_event_ids`) names every event of a record's history, corrections
    and superseded versions included, so superseded events are "behind" their fact.
    Quarantined records never became events: each feed's loads must balance
    (read = appended + duplicates + quarantined) and the events its loads known at
    `as_of` appended must be exactly the feed's log as known then.
    """
    folded = "\n    UNION ALL\n    ".join(
        f"SELECT unnest(event_ids) AS event_id, is_retracted, is_excluded FROM intermediate.{m}"
        for m in FOLDED
    )
    return RECONCILIATION_SQL.format(
        as_of_filter=as_of_filter(as_of),
        known=known_sql(as_of),
        live=live_sql(as_of),
        facts=facts_sql(),
        folded=folded,
    )


def held_back(frame: Any) -> dict[str, str]:
    """The feeds the publish leaves out, with why: raw feeds, feeds the registry no
    longer declares, and feeds whose events staging did not read. Such a feed stops
    nothing else; the log's integrity (loads balance, appended = committed) is still
    checked for every feed by the reconciliation suite."""
    out: dict[str, str] = {}
    for row in frame.itertuples(index=False):
        if row.entity == "none":
            out[row.feed_id] = "raw feed (entity none): kept in the log and the catalogue only"
        elif row.entity == "(not in feeds.yaml)":
            out[row.feed_id] = "in the event log but not in feeds.yaml"
        elif row.events_unaccounted:
            out[row.feed_id] = (
                f"{row.events_unaccounted:,} of {row.events_committed:,} events are neither in a "
                "fact nor listed as excluded (staging did not read them)"
            )
    return out


def built_as_of(con: Any) -> datetime | None:
    """The moment the warehouse on `con` was built as known at (None: not recorded)."""
    from ingest.warehouse.runner import read_state

    state = read_state(con)
    return state.as_of if state is not None else None


def feed_report(con: Any) -> list[dict[str, Any]]:
    """One row per feed, as of the moment the warehouse was built as known at: its
    entity, events committed, in facts, retracted or excluded, unaccounted, and why it
    is held back from the publish (if it is)."""
    frame = con.execute(reconciliation_sql(built_as_of(con))).df()
    held = held_back(frame)
    rows = frame.to_dict("records")
    for row in rows:
        row["held_back"] = held.get(row["feed_id"])
    return rows
