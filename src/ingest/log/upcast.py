"""Upcasters: an event written under an older `schema_version` of its feed's payload
layout, read as the newest.

The log is never rewritten (DESIGN.md, rule 2), so when a feed's payload layout changes
(feeds.yaml `schema_version` goes from n to n+1), its old events keep their old payloads.
An upcaster says, once, how a payload of version n reads as version n+1: a pure function
from the SQL of the payload (JSON text) to the SQL of the upcast one. Readers of the log
(`EventLog.select_sql`, hence the warehouse's views and `peaceops events`) apply every
step from an event's version on, so staging only ever sees the newest layout. Event ids
are left alone: they hash the record as received.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from ingest.sql import literal

# SQL of a payload (JSON text) -> SQL of the same payload one version on
Upcaster = Callable[[str], str]

# (feed id, version n) -> the step from n to n + 1. Empty until a feed's layout changes;
# a step is added here with the feeds.yaml change that bumps the feed's schema_version.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcast_columns(
    payload: str,
    version: str,
    feed: str,
    feed_ids: Collection[str] | None = None,
    upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
) -> tuple[str, str]:
    """SQL of (payload, schema_version) read as the newest version of each event's feed.
    `payload`, `version` and `feed` are the SQL of the stored columns; `feed_ids` limits
    the steps to the feeds a reader selects (None: all). With no step that applies, the
    stored columns as they are."""
    steps = UPCASTERS if upcasters is None else upcasters
    payloads, versions = [], []
    for feed_id, start in sorted(steps):
        if feed_ids is not None and feed_id not in feed_ids:
            continue
        upcast, newest = payload, start
        while (feed_id, newest) in steps:
            upcast = steps[(feed_id, newest)](upcast)
            newest += 1
        when = f"WHEN {feed} = {literal(feed_id)} AND {version} = {start}"
        payloads.append(f"{when} THEN {upcast}")
        versions.append(f"{when} THEN {newest}")
    if not payloads:
        return payload, version
    return (
        f"CASE {' '.join(payloads)} ELSE {payload} END",
        f"CAST(CASE {' '.join(versions)} ELSE {version} END AS INTEGER)",
    )
