"""The published dataset as its readers see it: versions under `published/`, the
`current` link, each version's manifest and its audiences' databases. Publishing
writes this layout (ingest.publish.writer); the dashboard, the gate and `peaceops
status` read it, all through here."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.releasability import AUDIENCES

CURRENT = "current"
DB_NAME = "unified.duckdb"
MANIFEST = "manifest.json"
# a version's name: the moment it was published, to the microsecond, in UTC
VERSION = re.compile(r"^\d{8}T\d{6}\.\d{6}Z$")


def published_dir(root: Path) -> Path:
    return Path(root) / "published"


def current_version(root: Path) -> Path | None:
    """The version directory `current` points to, resolved once (or None)."""
    link = published_dir(root) / CURRENT
    if not link.is_symlink() and not link.is_dir():
        return None
    target = Path(os.path.realpath(link))
    return target if target.is_dir() else None


def versions(root: Path) -> list[Path]:
    """Every version directory, oldest first (complete or not: see list_versions)."""
    base = published_dir(root)
    if not base.exists():
        return []
    return sorted(p for p in base.iterdir() if VERSION.match(p.name) and p.is_dir())


def read_manifest(version_dir: Path) -> dict[str, Any]:
    """A version's manifest; {} when it has none or it cannot be read."""
    try:
        return json.loads((Path(version_dir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def current_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the current version; None when nothing readable is published."""
    current = current_version(root)
    return (read_manifest(current) or None) if current else None


@dataclass(frozen=True)
class Version:
    name: str
    path: Path
    as_of: str | None
    created_at: str | None
    is_current: bool
    audiences: tuple[str, ...]
    # built --as-of a past moment: never `current`, and labelled so in the picker
    historical: bool = False

    def label(self) -> str:
        as_of = (self.as_of or "?")[:19].replace("T", " ")
        tag = "  (current)" if self.is_current else ""
        kind = "historical: as known at" if self.historical else "as of"
        return f"{kind} {as_of} UTC · {self.name}{tag}"


def list_versions(root: Path) -> list[Version]:
    """Complete versions, newest first, with as_of from each manifest.

    Only complete versions count: a directory with a manifest.json (publish writes it
    last and renames the directory into place afterwards).
    """
    current = current_version(root)
    found = []
    for path in versions(root):
        manifest = read_manifest(path)
        if not manifest:
            continue
        found.append(
            Version(
                name=path.name,
                path=path,
                as_of=manifest.get("as_of"),
                created_at=manifest.get("created_at"),
                is_current=current is not None and path.resolve() == current,
                audiences=tuple(a for a in AUDIENCES if (path / a / DB_NAME).is_file()),
                historical=bool(manifest.get("historical")),
            )
        )
    return sorted(found, key=lambda v: v.name, reverse=True)


def pick_version(root: Path, choice: str) -> Path | None:
    """`choice` is CURRENT (follow the link, resolved now) or a version name."""
    if choice == CURRENT:
        return current_version(root)
    if not VERSION.match(choice):
        return None
    path = published_dir(root) / choice
    return path if (path / MANIFEST).is_file() else None


def audience_db(version_dir: Path, audience: str) -> Path:
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; one of {', '.join(AUDIENCES)}")
    return Path(version_dir) / audience / DB_NAME
