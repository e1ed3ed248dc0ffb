"""What every connector yields, and the error it raises."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pulled:
    """One payload as received from a feed, before any decoding."""

    name: str  # file name or "page-<n>"; used in source_ref
    data: bytes  # raw bytes as received
    fmt: str  # decoder format: csv | hxl | json | jsonl | xlsx | xml
    cursor: str | None  # for http_json: the cursor after this page


@dataclass(frozen=True)
class Skipped:
    """A file the connector saw and left alone, with why (reported, never silent)."""

    name: str
    reason: str


class ConnectorError(RuntimeError):
    """A feed cannot be pulled; the message names the feed and what to fix."""
