"""JSON documents (records in a list, optionally under a path) and JSON lines.

Numbers keep the exact text the agency sent (no float rounding); nested values
are kept as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ingest.feeds.decode.model import Decoded, DecodeError, Reject, rows_table
from ingest.feeds.decode.text import to_text


def _loads(text: str) -> Any:
    # Decimal keeps a number's text exactly ("1.10" stays "1.10").
    return json.loads(text, parse_float=Decimal, parse_constant=str)


def cell(value: Any) -> str | None:
    """A JSON value as payload text: strings and numbers as sent, the rest as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=float)


def record(value: Any) -> dict[str, str | None]:
    return {str(k): cell(v) for k, v in value.items()}


def _raw(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=float)


def records_at(document: Any, path: str | None) -> list[Any]:
    """The list of records at a dotted path (`data`, `result.items`) of the document."""
    node = document
    for key in path.split(".") if path else []:
        if not isinstance(node, dict) or key not in node:
            raise DecodeError(f"no {key!r} in the document (records_path {path!r})")
        node = node[key]
    if isinstance(node, dict) and not path:
        return [node]  # a single record sent on its own
    if not isinstance(node, list):
        raise DecodeError(f"records at {path or 'the top level'!r} are not a list")
    return node


def decode_json(data: bytes, options: Mapping[str, Any]) -> Decoded:
    text, encoding = to_text(data, options.get("encoding"))
    if not text.strip():
        raise DecodeError("empty file: not a JSON document")
    try:
        document = _loads(text)
    except json.JSONDecodeError as err:
        raise DecodeError(f"not a JSON document: {err}") from None
    rows, positions, rejects = [], [], []
    for i, item in enumerate(records_at(document, options.get("records_path")), start=1):
        if isinstance(item, dict):
            rows.append(record(item))
            positions.append(f"item={i}")
        else:
            rejects.append(
                Reject(f"item={i}", _raw(item), "not_an_object", "a record must be a JSON object")
            )
    return Decoded(rows_table(rows, positions), rejects, encoding)


def decode_jsonl(data: bytes, options: Mapping[str, Any]) -> Decoded:
    text, encoding = to_text(data, options.get("encoding"))
    rows, positions, rejects = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        pos = f"line={number}"
        try:
            item = _loads(line)
        except json.JSONDecodeError as err:
            rejects.append(Reject(pos, line, "bad_json", f"not valid JSON: {err}"))
            continue
        if isinstance(item, dict):
            rows.append(record(item))
            positions.append(pos)
        else:
            rejects.append(Reject(pos, line, "not_an_object", "a record must be a JSON object"))
    return Decoded(rows_table(rows, positions), rejects, encoding)
