"""`peaceops build`: build the warehouse with dbt (seed, run, test) on the committed log."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ingest.warehouse.runner import NodeResult

NAME_WIDTH = 64
TEST_HASH = re.compile(r"\.[0-9a-f]{10}$")


def short_name(unique_id: str, resource_type: str) -> str:
    """`model.peaceops.fct_incidents` -> `fct_incidents`; a generic test loses its hash."""
    name = unique_id.split(".", 2)[-1]
    return TEST_HASH.sub("", name) if resource_type == "test" else name


def node_printer(console: Any) -> Callable[[NodeResult], None]:
    """One numbered line per finished dbt node (status, type, name, seconds), for `build`
    and `run`: a build of hundreds of nodes shows where it is."""
    colours = {
        "success": "green",
        "pass": "green",
        "warn": "yellow",
        "skipped": "dim",
        "no-op": "dim",
    }
    counter = {"n": 0}

    def on_node(node: NodeResult) -> None:
        counter["n"] += 1
        colour = colours.get(node.status, "red")
        name = short_name(node.unique_id, node.resource_type)
        if len(name) > NAME_WIDTH:
            name = name[: NAME_WIDTH - 1] + "…"
        extra = (
            f"  {node.message}"
            if node.status not in ("success", "pass", "no-op") and node.message
            else ""
        )
        console.print(
            f"{counter['n']:>4} [{colour}]{node.status:<7}[/] {node.resource_type:<9} "
            f"{name:<{NAME_WIDTH}} {node.seconds:6.2f}s{extra}",
            highlight=False,
            soft_wrap=True,
        )

    return on_node


@click.command("build")
@click.option(
    "--as-of",
    "as_of",
    metavar="TIME",
    help="Build the warehouse as known at this UTC time, e.g. 2026-11-05T12:00Z "
    "(always a full refresh). Default: now, incrementally.",
)
@click.option("--full-refresh", is_flag=True, help="Rebuild every incremental model from the log.")
@click.option("--select", metavar="SPEC", help="dbt node selection for the run/test step.")
@click.option("--no-test", is_flag=True, help="dbt run instead of dbt build (skip the tests).")
@click.option(
    "--verify",
    is_flag=True,
    help="Compare an incremental build with a full refresh of the same log now, not only "
    "every verify_incremental_hours (expectations/gate.yml); the gate fails on a difference.",
)
def command(
    as_of: str | None, full_refresh: bool, select: str | None, no_test: bool, verify: bool
) -> None:
    """Normalise every feed into the warehouse (data/warehouse/build.duckdb).

    Creates the `eventlog` views over the log as committed now, then runs `dbt seed`
    and `dbt build` (models and their tests) in-process, printing one line per dbt
    node, in a new file that replaces the warehouse only if every model and test
    passed. Exits 1 if any model or test failed: the warehouse is then unchanged and
    the failed build is kept as data/warehouse/failed.duckdb.
    """
    from rich.console import Console

    from ingest import stages
    from ingest.settings import Settings
    from ingest.warehouse.runner import parse_as_of, warehouse_path

    console = Console(stderr=True)
    try:
        when = parse_as_of(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter(f"not an ISO time: {as_of!r}", param_hint="--as-of") from None
    settings = Settings.resolve()
    root = settings.data_dir
    on_node = node_printer(console)

    def on_step(step: str) -> None:
        console.rule(f"[bold]dbt {step}")

    result = stages.build(
        settings,
        as_of=when,
        full_refresh=full_refresh,
        select=select,
        on_node=on_node,
        on_step=on_step,
        test=not no_test,
        verify=verify,
    )
    console.rule()
    if result.full_refresh_reason:
        console.print(f"full refresh: {result.full_refresh_reason}", highlight=False)
    if result.verified:
        console.print(
            "compared with a full refresh of the same log: `peaceops check` says if they differ"
        )
    if result.ok:
        print_feed_report(console, root)
    verdict = "[green]ok[/]" if result.ok else "[red]FAILED[/]"
    console.print(
        f"build {verdict}: {result.nodes} nodes in {result.seconds:.1f} s, as of {result.as_of}, "
        f"warehouse {result.warehouse} (dbt invocation {result.invocation_id})",
        soft_wrap=True,
    )
    if not result.ok:
        console.print(f"the warehouse in use, {warehouse_path(root)}, is as it was", soft_wrap=True)
    for failure in result.failures:
        console.print(f"[red]  {failure}[/]", highlight=False, soft_wrap=True)
    if not result.ok:
        raise SystemExit(1)


def print_feed_report(console: Any, root: Path) -> None:
    """Per feed: what its events became (facts, excluded, unaccounted) as of the moment
    the warehouse was built as of, and which feeds the publish will hold back, with why."""
    from rich.table import Table

    from ingest.gate.reconcile import feed_report
    from ingest.sessions import connect
    from ingest.warehouse.runner import warehouse_path

    con = connect(warehouse_path(root), read_only=True)
    try:
        rows = feed_report(con)
    finally:
        con.close()
    table = Table(title="per feed", title_justify="left")
    for col in ("feed", "entity", "events", "in facts", "retracted/excluded", "unaccounted"):
        table.add_column(col, justify="left" if col in ("feed", "entity") else "right")
    for r in rows:
        table.add_row(
            r["feed_id"],
            r["entity"],
            *(
                f"{int(r[k]):,}"
                for k in (
                    "events_committed",
                    "events_in_facts",
                    "events_retracted_or_excluded",
                    "events_unaccounted",
                )
            ),
        )
    console.print(table)
    for r in rows:
        if r["held_back"]:
            console.print(
                f"[yellow]held back from the publish:[/] {r['feed_id']}: {r['held_back']}"
            )
