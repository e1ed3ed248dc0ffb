"""`peaceops dashboard`: the Streamlit dashboard over the published dataset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

AUDIENCES = ("public", "partners", "mission")


def streamlit_args(app: Path, *, host: str, port: int) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, local only."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",  # no "Deploy" button (it links to the internet)
    ]


@click.command("dashboard")
@click.option("--port", type=int, default=8501, show_default=True, help="Port to listen on.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep it local unless a proxy guards it).",
)
@click.option(
    "--audience",
    "audiences",
    type=click.Choice(AUDIENCES),
    multiple=True,
    help="Audience(s) the dashboard offers, repeatable; the first is the default "
    "(default: mission, partners, public).",
)
def command(port: int, host: str, audiences: tuple[str, ...]) -> None:
    """Serve the dashboard on http://127.0.0.1:PORT: a map of incidents, deliveries
    and patrols, coverage gaps, duplication, deconfliction alerts and agency
    timeliness, with a version (as-of) picker, an audience selector and filters.

    It reads data/published (or $PEACEOPS_DATA_DIR/published) read-only and fetches
    nothing from the internet.
    """
    from ingest.paths import data_dir

    app = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    env = dict(os.environ)
    env["PEACEOPS_DATA_DIR"] = str(data_dir())
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    if audiences:
        env["PEACEOPS_DASHBOARD_AUDIENCES"] = ",".join(audiences)
    click.echo(f"dashboard on http://{host}:{port} (data: {env['PEACEOPS_DATA_DIR']})")
    try:
        code = subprocess.call(streamlit_args(app, host=host, port=port), env=env)
    except KeyboardInterrupt:
        code = 0
    raise SystemExit(code)
