"""The quality gate: Great Expectations suites over the warehouse's published marts.

`run_gate(root)` validates `<root>/warehouse/build.duckdb` and answers a
`GateResult`; nothing is published unless it passed. Great Expectations is
imported only when a gate runs (its import takes seconds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.gate.result import Failure, GateResult, SuiteStats

__all__ = ["Failure", "GateResult", "SuiteStats", "run_gate"]


def run_gate(root: Path, **kwargs: Any) -> GateResult:
    """Run the gate's checkpoint on the warehouse of `root` (see ingest.gate.runner)."""
    from ingest.gate.runner import run_gate as run

    return run(Path(root), **kwargs)
