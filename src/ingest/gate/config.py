"""The gate's settings: `expectations/gate.yml` (committed next to the GX context)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
EXPECTATIONS_DIR = REPO / "expectations"
CONFIG_FILE = EXPECTATIONS_DIR / "gate.yml"


@dataclass(frozen=True)
class GateConfig:
    mission_start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    batch_rows: int = 500_000
    min_ratio: float = 0.5
    max_ratio: float = 5.0
    keep_versions: int = 5


def load_config(path: Path | None = None) -> GateConfig:
    path = path or CONFIG_FILE
    if not path.exists():
        return GateConfig()
    data = yaml.safe_load(path.read_text()) or {}
    start = data.get("mission_start", "2026-01-01")
    if isinstance(start, date) and not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day)
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    change = data.get("row_count_change") or {}
    return GateConfig(
        mission_start=start.astimezone(UTC),
        batch_rows=int(data.get("batch_rows", 500_000)),
        min_ratio=float(change.get("min_ratio", 0.5)),
        max_ratio=float(change.get("max_ratio", 5.0)),
        keep_versions=int(data.get("keep_versions", 5)),
    )
