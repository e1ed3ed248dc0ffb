"""How often a feed is expected to bring something: the one rule behind `peaceops
status`, the dashboard and the registry table the warehouse carries."""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter

from ingest.feeds.registry import Feed, parse_duration

PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}


def schedule_interval(schedule: str, now: datetime) -> timedelta:
    """The time between two scheduled pulls around `now`."""
    expr = PRESETS.get(schedule, schedule)
    prev = croniter(expr, now).get_prev(datetime)
    return croniter(expr, prev).get_next(datetime) - prev


def expected_interval(feed: Feed, now: datetime) -> timedelta:
    """How often the feed is expected to bring something: its `freshness`, else the
    time between two scheduled pulls. The one rule behind status, the dashboard and
    the registry table the warehouse carries."""
    if feed.freshness is not None:
        return parse_duration(feed.freshness)
    return schedule_interval(feed.schedule, now)
