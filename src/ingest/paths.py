"""Where the hub keeps its runtime data (DESIGN.md, "Layout")."""

from __future__ import annotations

import os
from pathlib import Path

# The checkout the hub runs from: dbt_project/, expectations/, packs/ and docs/ live here.
REPO = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """The data directory: PEACEOPS_DATA_DIR, else ./data."""
    return Path(os.environ.get("PEACEOPS_DATA_DIR", "data")).absolute()


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
