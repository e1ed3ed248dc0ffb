"""`peaceops publish`: check the warehouse, then publish it as a new version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.command("publish")
@click.option(
    "--keep",
    type=int,
    default=None,
    help="Published versions to keep (default: keep_versions in expectations/gate.yml).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a machine-readable summary on stdout (the gate's summary goes to stderr).",
)
def command(keep: int | None, as_json: bool) -> None:
    """Run the quality gate and, only if it passes, publish data/published/<version>/
    (public, partners, mission: unified.duckdb, Parquet, HXL CSV, manifest.json) and
    switch data/published/current to it atomically. A failed gate publishes nothing,
    leaves `current` as it was and exits 1. A warehouse built --as-of a past moment is
    published as a historical version: `current` stays where it was.

    While a build runs, publish waits for it (up to PEACEOPS_LOCK_TIMEOUT seconds,
    saying whom it waits for) and then checks and publishes what it left.
    """
    from ingest import stages
    from ingest.gate.summary import format_summary
    from ingest.settings import Settings
    from ingest.warehouse.runner import build_lock

    settings = Settings.resolve(keep_versions=keep)
    root = settings.data_dir
    with build_lock(root):
        result = stages.check(settings)
        click.echo(format_summary(result), err=as_json)
        if not result.passed:
            if as_json:
                click.echo(json.dumps(_json(root, result, None), indent=1, default=str))
            click.echo(
                "nothing published: the gate failed; data/published/current is unchanged",
                err=as_json,
            )
            raise SystemExit(1)
        version = stages.publish(settings, result)
    if as_json:
        click.echo(json.dumps(_json(root, result, version), indent=1, default=str))
        return
    if result.historical:
        click.echo(
            f"published {version}: a historical version, as known at {result.as_of}; "
            f"{root / 'published' / 'current'} is unchanged"
        )
    else:
        click.echo(f"published {version} -> {root / 'published' / 'current'}")


def _json(root: Path, gate: Any, version: Path | None) -> dict[str, Any]:
    """What `publish --json` prints: the version (null when nothing was published), whether
    `current` now points at it, its row counts per audience and the gate's summary."""
    manifest = json.loads((version / "manifest.json").read_text()) if version else {}
    return {
        "ok": version is not None,
        "published": str(version) if version else None,
        "version": version.name if version else None,
        "historical": gate.historical,
        "as_of": manifest.get("as_of", gate.as_of),
        "current": str(root / "published" / "current"),
        "current_switched": version is not None and not gate.historical,
        "row_counts": manifest.get("row_counts", {}),
        "gate": gate.summary(),
    }
