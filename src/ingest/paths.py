"""Where the hub keeps its runtime data (DESIGN.md, "Layout")."""

from __future__ import annotations

import os
from pathlib import Path


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
