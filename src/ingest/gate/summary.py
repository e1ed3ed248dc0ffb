"""A gate result as a few readable lines."""

from __future__ import annotations

from ingest.gate.result import GateResult


def format_summary(result: GateResult, *, max_failures: int = 30) -> str:
    lines = []
    width = max((len(name) for name in result.stats), default=10)
    for name, s in result.stats.items():
        mark = "ok  " if s.failed == 0 else "FAIL"
        line = (
            f"  {mark} {name:<{width}} {s.rows:>10,} rows {s.batches:>3} batch(es) "
            f"{s.expectations:>3} expectations {s.failed:>3} failed {s.seconds:6.2f}s"
        )
        if s.carried_from is not None:
            line += f"  carried over: pass of {s.carried_from.get('checked_at')}"
        lines.append(line)
    verdict = "PASSED" if result.passed else "FAILED"
    carried = len(result.carried_over)
    lines.append(
        f"gate {verdict}: {len(result.stats)} suites ({len(result.stats) - carried} validated, "
        f"{carried} carried over), "
        f"{sum(s.expectations for s in result.stats.values())} expectations, "
        f"{len(result.failures)} failed, {result.duration:.1f} s"
    )
    if result.scope == "all":
        lines.append(f"  every suite validated: {result.scope_reason}")
    else:
        lines.append("  validated: the marts whose checked columns changed since their last pass")
    for feed_id, reason in result.held_back.items():
        lines.append(f"  held back: {feed_id}: {reason}")
    for failure in result.failures[:max_failures]:
        lines.append(f"  - {failure.describe()}")
    if len(result.failures) > max_failures:
        lines.append(f"  ... and {len(result.failures) - max_failures} more")
    if result.data_docs:
        lines.append(f"Data Docs: {result.data_docs}")
    return "\n".join(lines)
