"""What a gate run answers: passed or not, and if not, exactly what failed where."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Failure:
    """One failed expectation (over all batches of its suite), or a suite that could not run."""

    suite: str
    relation: str | None
    expectation: str
    column: str | None = None
    unexpected_count: int | None = None
    element_count: int | None = None
    examples: list[str] = field(default_factory=list)
    message: str | None = None

    def describe(self) -> str:
        where = self.relation or self.suite
        if self.column:
            where += f".{self.column}"
        text = f"{where}: {self.expectation}"
        if self.unexpected_count is not None:
            of = f" of {self.element_count:,}" if self.element_count is not None else ""
            text += f" failed on {self.unexpected_count:,}{of} rows"
        if self.examples:
            text += "; e.g. " + ", ".join(self.examples)
        if self.message:
            text += f" ({self.message})"
        return text


@dataclass
class SuiteStats:
    suite: str
    relation: str | None
    rows: int = 0
    batches: int = 0
    expectations: int = 0
    failed: int = 0
    seconds: float = 0.0
    # not validated again: the pass carried over (ingest.gate.carry), when it was checked
    # and on which build; None: validated in this run
    carried_from: dict[str, Any] | None = None
    # why it was validated again, or why its pass was carried over
    reason: str | None = None
    # of `rows`, those validated when only the rows unlike any that passed were (None: all)
    rows_checked: int | None = None


@dataclass
class GateResult:
    passed: bool
    failures: list[Failure] = field(default_factory=list)
    stats: dict[str, SuiteStats] = field(default_factory=dict)
    duration: float = 0.0
    data_docs: Path | None = None
    warehouse: Path | None = None
    checked_at: str | None = None
    # rows per published mart in the warehouse that was checked
    row_counts: dict[str, int] = field(default_factory=dict)
    # feeds left out of the publish, with why (raw, not in feeds.yaml, not staged)
    held_back: dict[str, str] = field(default_factory=dict)
    # per feed: its events committed, in facts, retracted or excluded, unaccounted
    feeds: list[dict[str, Any]] = field(default_factory=list)
    # the build checked (warehouse state.build): publish refuses another one
    build_id: str | None = None
    # the moment it was built as known at, and whether that was asked for (--as-of)
    as_of: str | None = None
    historical: bool = False
    # "all": every suite validated, with why (`scope_reason`); "changed": the mart suites
    # whose checked content changed since their last pass, the others carried over
    scope: str = "all"
    scope_reason: str | None = None
    # per mart: rows and the sum of a hash of every row's columns, all of them (what
    # ingest.warehouse.verification.mart_contents gives), read in the scan that digests
    # its checked columns; publish's carry-over takes them rather than scan every mart again
    contents: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def carried_over(self) -> dict[str, str]:
        """Suite -> when the pass carried over was checked."""
        return {
            name: str(s.carried_from.get("checked_at"))
            for name, s in self.stats.items()
            if s.carried_from is not None
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("data_docs", "warehouse"):
            data[key] = str(data[key]) if data[key] is not None else None
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def summary(self) -> dict[str, Any]:
        """The short form a manifest carries."""
        return {
            "passed": self.passed,
            "checked_at": self.checked_at,
            "duration_s": round(self.duration, 3),
            "suites": len(self.stats),
            "expectations": sum(s.expectations for s in self.stats.values()),
            "failures": [f.describe() for f in self.failures],
            "held_back": self.held_back,
            "build_id": self.build_id,
            "scope": self.scope,
            "scope_reason": self.scope_reason,
            "validated": [n for n, s in self.stats.items() if s.carried_from is None],
            "carried_over": self.carried_over,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        return cls(
            passed=data["passed"],
            failures=[Failure(**f) for f in data.get("failures", [])],
            stats={k: SuiteStats(**v) for k, v in data.get("stats", {}).items()},
            duration=data.get("duration", 0.0),
            data_docs=Path(data["data_docs"]) if data.get("data_docs") else None,
            warehouse=Path(data["warehouse"]) if data.get("warehouse") else None,
            checked_at=data.get("checked_at"),
            row_counts=data.get("row_counts", {}),
            held_back=data.get("held_back", {}),
            feeds=data.get("feeds", []),
            build_id=data.get("build_id"),
            as_of=data.get("as_of"),
            historical=data.get("historical", False),
            scope=data.get("scope", "all"),
            scope_reason=data.get("scope_reason"),
            contents=data.get("contents", {}),
        )
