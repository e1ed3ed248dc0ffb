"""Connectors: pull raw payloads from a feed, one `Pulled` at a time.

Connectors only fetch: the pipeline lands, de-duplicates and decodes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ingest.feeds.connectors.base import ConnectorError, Pulled, Skipped
from ingest.feeds.registry import Feed

__all__ = ["ConnectorError", "Pulled", "Skipped", "pull"]


def pull(feed: Feed, cursor: str | None, env: Mapping[str, str]) -> Iterator[Pulled | Skipped]:
    """Yield the feed's payloads after `cursor` (None = from the start), and what it
    left alone."""
    # Imported per kind so a file-drop run never pays for httpx.
    if feed.kind == "http_json":
        from ingest.feeds.connectors.http_json import pull_http_json

        return pull_http_json(feed, cursor, env)
    if feed.kind == "file_drop":
        from ingest.feeds.connectors.file_drop import pull_file_drop

        return pull_file_drop(feed, cursor, env)
    raise ValueError(f"feed '{feed.id}': unknown connector kind {feed.kind!r}")
