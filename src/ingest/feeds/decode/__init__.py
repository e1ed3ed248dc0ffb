"""Decoders: a payload's bytes in, a table of records out.

Decoders decode; they do not interpret. Every value stays as the agency sent it
(as text; nested JSON as JSON text), column names are the agency's own, and a
record that cannot be read becomes a `Reject` with a reason instead of being
dropped. Pure functions: no I/O, so they test on bytes alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ingest.feeds.decode.model import POS, Decoded, DecodeError, Reject

FORMATS = ("csv", "hxl", "json", "jsonl", "xlsx", "xml")

__all__ = ["FORMATS", "POS", "DecodeError", "Decoded", "Reject", "decode"]


def _decoder(fmt: str) -> Callable[[bytes, Mapping[str, Any]], Decoded]:
    # Imported on use: the xlsx reader and pyarrow's CSV reader are heavy and a
    # feed needs only its own.
    if fmt == "csv":
        from ingest.feeds.decode.delimited import decode_csv

        return decode_csv
    if fmt == "hxl":
        from ingest.feeds.decode.hxl import decode_hxl

        return decode_hxl
    if fmt == "json":
        from ingest.feeds.decode.jsondoc import decode_json

        return decode_json
    if fmt == "jsonl":
        from ingest.feeds.decode.jsondoc import decode_jsonl

        return decode_jsonl
    if fmt == "xlsx":
        from ingest.feeds.decode.xlsx import decode_xlsx

        return decode_xlsx
    if fmt == "xml":
        from ingest.feeds.decode.xmldoc import decode_xml

        return decode_xml
    raise DecodeError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")


def decode(data: bytes, fmt: str, options: Mapping[str, Any] | None = None) -> Decoded:
    """Decode one payload. Raises DecodeError when the payload as a whole is unreadable."""
    return _decoder(fmt)(data, options or {})
