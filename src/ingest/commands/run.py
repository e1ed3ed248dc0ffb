"""`peaceops run`: ingest + build + check + publish, one stage after the other."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ingest import stages
from ingest.settings import Settings


@click.command("run")
@click.option("--keep", type=int, default=None, help="Published versions to keep.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Also print a machine-readable summary on stdout (progress stays on stderr).",
)
def command(keep: int | None, as_json: bool) -> None:
    """Ingest every feed, build the warehouse, check it and publish it.

    A feed that fails is reported and the others are built and published, as under
    Airflow; a failed build or check stops the run (a failed check publishes
    nothing). Exits 1 if anything failed.
    """
    summary = run_all(Settings.resolve(keep_versions=keep))
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=1, default=str))
    if not summary.ok:
        raise SystemExit(1)


@dataclass
class RunSummary:
    stages: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    published: Path | None = None
    failed: list[str] = field(default_factory=list)  # stages, in order
    # per stage, the figures `run --json` prints (feeds, nodes, gate, version)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed_stage(self) -> str | None:
        """The last stage that failed: the one that stopped the run, if one did."""
        return self.failed[-1] if self.failed else None

    def to_json(self) -> dict[str, Any]:
        """What `peaceops run --json` prints: per stage ok, seconds, summary line and
        figures, in the order they ran; not run stages are absent."""
        return {
            "ok": self.ok,
            "failed_stage": self.failed_stage,
            "published": str(self.published) if self.published else None,
            "stages": {
                name: {
                    "ok": name not in self.failed,
                    "seconds": round(self.seconds[name], 3),
                    "summary": text,
                    **self.details.get(name, {}),
                }
                for name, text in self.stages.items()
            },
        }


def run_all(settings: Settings, *, console: Any = None) -> RunSummary:
    """Ingest, build, check and publish, as the Airflow DAGs do: a feed that fails is
    reported and the warehouse is built and published from the others; a failed build
    or check stops the run (a failed check publishes nothing). Progress goes to `console`
    (default: stderr)."""
    from rich.console import Console

    from ingest.commands.build import node_printer
    from ingest.commands.ingest import feed_json
    from ingest.gate.summary import format_summary

    console = console or Console(stderr=True)
    summary = RunSummary()

    def stage(title: str) -> float:
        console.rule(f"[bold]{title}")
        return time.perf_counter()

    def done(name: str, t0: float, ok: bool, text: str) -> bool:
        summary.seconds[name] = time.perf_counter() - t0
        summary.stages[name] = text
        if not ok:
            summary.failed.append(name)
        return ok

    t0 = stage("1/4 ingest: pull every feed into the event log")
    results = stages.ingest(settings)
    for r in results:
        c = r.counts
        status = "ok" if r.ok else f"[red]FAILED: {r.error}[/]"
        console.print(
            f"  {r.feed_id:<20} read {c.read:>7,}  events {c.appended:>7,}  "
            f"duplicates {c.duplicates:>5,}  quarantined {c.quarantined:>4,}  {status}",
            highlight=False,
        )
    appended = sum(r.counts.appended for r in results)
    failed = [r.feed_id for r in results if not r.ok]
    summary.details["ingest"] = {"feeds": [feed_json(r) for r in results]}
    text = f"{len(results)} feeds, {appended:,} new events" + (
        f", failed: {', '.join(failed)}" if failed else ""
    )
    # Like the Airflow path: one feed down does not hold back what the others brought.
    done("ingest", t0, not failed, text)

    t0 = stage("2/4 build: dbt seed + build on the committed log")
    built = stages.build(
        settings,
        on_node=node_printer(console),  # one line per node, as `build` prints
        on_step=lambda s: console.print(f"  dbt {s}", highlight=False),
    )
    summary.details["build"] = {
        "nodes": built.nodes,
        "as_of": built.as_of,
        "build_id": built.build_id,
        "failures": built.failures,
    }
    for failure in built.failures[:20]:
        console.print(f"  [red]{failure}[/]", highlight=False)
    text = f"{built.nodes} dbt nodes, as of {built.as_of}" + ("" if built.ok else ", FAILED")
    if not done("build", t0, built.ok, text):
        return _finish(console, summary)

    t0 = stage("3/4 check: the quality gate (Great Expectations)")
    gate = stages.check(settings)
    console.print(format_summary(gate), highlight=False)
    summary.details["check"] = {"gate": gate.summary()}
    text = "passed" if gate.passed else f"FAILED ({len(gate.failures)} expectations)"
    if not done("check", t0, gate.passed, text):
        return _finish(console, summary)

    t0 = stage("4/4 publish: new version, atomic switch of current")
    version = stages.publish(settings, gate)
    summary.published = version
    summary.details["publish"] = {"version": version.name, "historical": gate.historical}
    done("publish", t0, True, f"{version.name} ({', '.join(settings.audiences)})")
    return _finish(console, summary)


def _finish(console: Any, summary: RunSummary) -> RunSummary:
    console.rule("[bold]summary")
    for name in ("ingest", "build", "check", "publish"):
        if name in summary.stages:
            mark = "[red]FAILED[/]" if name in summary.failed else "[green]ok[/]"
            console.print(
                f"  {name:<8} {mark:<6} {summary.seconds[name]:6.1f}s  {summary.stages[name]}",
                highlight=False,
            )
        else:
            console.print(f"  {name:<8} [dim]not run[/]")
    if summary.failed_stage == "check":
        console.print("  nothing published: published/current is unchanged")
    elif "ingest" in summary.failed and summary.published is not None:
        console.print(
            "  published from the feeds that arrived; the failed ones go on at their next run"
        )
    return summary
