"""Where the hub keeps its runtime data under the data directory (DESIGN.md, "Layout"; the
data directory itself is a setting, ingest.settings)."""

from __future__ import annotations

import os
from pathlib import Path


def landing_dir(root: Path) -> Path:
    return root / "landing"


def eventlog_dir(root: Path) -> Path:
    return root / "eventlog"


def quarantine_dir(root: Path) -> Path:
    return root / "quarantine"


def state_dir(root: Path) -> Path:
    return root / "state"


# Landed bytes, the log, quarantine, state and the warehouse hold raw personal data:
# only the hub's own user may read them. Published audience folders stay readable.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(root: Path, path: Path) -> Path:
    """Create `path` and every missing folder between `root` and it with mode 0700.

    `root` itself (the data directory) is created as usual: `published/` in it must
    stay reachable by the readers of the published dataset."""
    root.mkdir(parents=True, exist_ok=True)
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if not current.is_dir():
            current.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    return path


def private_opener(path: str, flags: int) -> int:
    """For `open(..., opener=private_opener)`: a file created 0600 from its first byte."""
    return os.open(path, flags, PRIVATE_FILE)
