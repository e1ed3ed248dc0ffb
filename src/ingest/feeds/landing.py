"""Landing: raw bytes as pulled, stored once, named by their sha256 (DESIGN.md rule 6)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.durable import atomic_write
from ingest.paths import landing_dir, private_dir


def sha256(data: bytes) -> str:
    """The name a payload is landed under."""
    return hashlib.sha256(data).hexdigest()


def land(root: Path, feed_id: str, data: bytes, digest: str) -> Path:
    """Store `data` under landing/<feed_id>/<digest>, its sha256 (the caller has it: a
    file drop is checked against the loads by it first); the same bytes are stored once."""
    folder = landing_dir(root) / feed_id
    path = folder / digest
    if not path.exists():
        private_dir(root, folder)
        # `.part`: what a killed run leaves, removed by the feed's next run
        atomic_write(path, data, suffix=".part")
    return path
