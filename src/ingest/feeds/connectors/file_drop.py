"""`file_drop` feeds: every file an agency drops into its inbox folder."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ingest.feeds.connectors.base import ConnectorError, Pulled, Skipped
from ingest.feeds.registry import Feed

# Files still being written by the sender (or editor/OS droppings) are left for
# the next run; the pipeline skips bytes it has landed before, so no cursor is needed.
PARTIAL_SUFFIXES = (".tmp", ".part")
EXTENSION_FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xml": "xml",
}


def file_format(name: str, feed_format: str) -> str:
    """Decoder format for a file: from its extension, else the feed's format."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        # An HXL file is a CSV with a hashtag row: only the feed knows which it is.
        return feed_format if feed_format in ("csv", "hxl") else "csv"
    return EXTENSION_FORMATS.get(suffix, feed_format)


def not_ready(path: Path) -> str | None:
    """Why a file of the inbox is left alone (hidden, still being written, a folder),
    or None when it is ready."""
    name = path.name
    if name.startswith("."):
        return "hidden file (its name starts with a dot)"
    if name.lower().endswith(PARTIAL_SUFFIXES):
        return "still being written (left for the next run)"
    if not path.is_file():
        return "not a regular file"
    return None


def pull_file_drop(
    feed: Feed, cursor: str | None = None, env: Mapping[str, str] | None = None
) -> Iterator[Pulled | Skipped]:
    """Yield every ready file in the inbox, sorted by name, and what is left alone;
    cursor is always None."""
    inbox = Path(feed.location)
    # Checked before the first yield so a misconfigured feed fails fast and clearly.
    if not inbox.is_dir():
        what = "is not a folder" if inbox.exists() else "does not exist"
        raise ConnectorError(f"feed '{feed.id}': inbox folder {inbox} {what}")
    return _read(sorted(inbox.iterdir(), key=lambda p: p.name), feed.format)


def _read(paths: list[Path], feed_format: str) -> Iterator[Pulled | Skipped]:
    for path in paths:
        reason = not_ready(path)
        if reason:
            yield Skipped(path.name, reason)
        else:
            yield Pulled(path.name, path.read_bytes(), file_format(path.name, feed_format), None)
