"""The gate's settings: `expectations/gate.yml` (committed next to the GX context; where it
is: ingest.settings, `Settings.gate_file`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class GateConfig:
    batch_rows: int = 2_000_000
    min_ratio: float = 0.5
    max_ratio: float = 5.0
    keep_versions: int = 5
    # an incremental build is compared with a full refresh at least this often (ingest.warehouse.verification)
    verify_incremental_hours: float = 24.0
    # a mart's pass is carried over to the next gate at most this long (ingest.gate.carry)
    recheck_hours: float = 24.0


def load_config(path: Path) -> GateConfig:
    if not path.exists():
        return GateConfig()
    data = yaml.safe_load(path.read_text()) or {}
    change = data.get("row_count_change") or {}
    default = GateConfig()  # a setting gate.yml leaves out keeps its default above
    return GateConfig(
        batch_rows=int(data.get("batch_rows", default.batch_rows)),
        min_ratio=float(change.get("min_ratio", default.min_ratio)),
        max_ratio=float(change.get("max_ratio", default.max_ratio)),
        keep_versions=int(data.get("keep_versions", default.keep_versions)),
        verify_incremental_hours=float(
            data.get("verify_incremental_hours", default.verify_incremental_hours)
        ),
        recheck_hours=float(data.get("recheck_hours", default.recheck_hours)),
    )
