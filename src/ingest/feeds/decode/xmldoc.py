"""XML: one record per repeated element.

Records are the elements named by `record_tag` (any depth), or else the children
of the root. A record's attributes become `@name` columns, its leaf children
columns by tag, nested children `parent/child` columns; a repeated child is kept
as a JSON list. Entities are never fetched (ElementTree does not resolve
external entities), and expat refuses entity-expansion bombs.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from ingest.feeds.decode.model import Decoded, DecodeError, rows_table


def local(tag: str) -> str:
    """Tag name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def flatten(element: ET.Element, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in element.attrib.items():
        out.setdefault(f"{prefix}@{local(key)}", []).append(value)
    for child in element:
        name = prefix + local(child.tag)
        if len(child) or child.attrib:
            for k, v in flatten(child, name + "/").items():
                out.setdefault(k, []).extend(v)
            text = (child.text or "").strip()
            if text:
                out.setdefault(name, []).append(text)
        else:
            out.setdefault(name, []).append((child.text or "").strip())
    return out


def record(element: ET.Element) -> dict[str, str | None]:
    values = flatten(element)
    text = (element.text or "").strip()
    if not len(element) and text:
        values.setdefault(local(element.tag), []).append(text)
    return {
        k: (v[0] or None) if len(v) == 1 else json.dumps(v, ensure_ascii=False)
        for k, v in values.items()
    }


def decode_xml(data: bytes, options: Mapping[str, Any]) -> Decoded:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise DecodeError(f"not well-formed XML: {err}") from None
    tag = options.get("record_tag")
    elements = [e for e in root.iter() if local(e.tag) == tag] if tag else list(root)
    rows = [record(e) for e in elements]
    positions = [f"item={i}" for i in range(1, len(rows) + 1)]
    return Decoded(rows_table(rows, positions), [], None)
