"""`file_drop` feeds: every file an agency drops into its inbox folder."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ingest.connectors.base import ConnectorError, Pulled
from ingest.registry import Feed

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


def is_ready(path: Path) -> bool:
    """A regular file that is neither hidden nor still being written."""
    name = path.name
    return (
        not name.startswith(".") and not name.lower().endswith(PARTIAL_SUFFIXES) and path.is_file()
    )


def pull_file_drop(
    feed: Feed, cursor: str | None = None, env: Mapping[str, str] | None = None
) -> Iterator[Pulled]:
    """Yield every ready file in the inbox, sorted by name; cursor is always None."""
    inbox = Path(feed.location)
    # Checked before the first yield so a misconfigured feed fails fast and clearly.
    if not inbox.is_dir():
        what = "is not a folder" if inbox.exists() else "does not exist"
        raise ConnectorError(f"feed '{feed.id}': inbox folder {inbox} {what}")
    files = sorted((p for p in inbox.iterdir() if is_ready(p)), key=lambda p: p.name)
    return _read(files, feed.format)


def _read(files: list[Path], feed_format: str) -> Iterator[Pulled]:
    for path in files:
        yield Pulled(path.name, path.read_bytes(), file_format(path.name, feed_format), None)
