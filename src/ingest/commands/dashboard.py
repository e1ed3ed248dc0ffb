"""`peaceops dashboard`: the Streamlit dashboard over the published dataset."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ingest.net import is_loopback
from ingest.releasability import AUDIENCES
from ingest.settings import DASHBOARD_AUDIENCES_ENV, DATA_DIR_ENV, Settings


def streamlit_args(app: Path, *, host: str, port: int) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, local only; run
    through ingest.serve.dashboard.server, which loads the page's modules before listening."""
    return [
        sys.executable,
        "-m",
        "ingest.serve.dashboard.server",
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


def offered_audiences(
    given: tuple[str, ...], configured: tuple[str, ...] | None, remote: bool
) -> tuple[str, ...]:
    """The audiences to offer, the first selected: `given` (--audience), else those
    `configured` (the settings' PEACEOPS_DASHBOARD_AUDIENCES), else all, public first. The
    dashboard has no login of its own, so one reachable from other machines offers public
    only unless told otherwise: it fails closed."""
    if given:
        return given
    if configured:
        return configured
    return ("public",) if remote else tuple(AUDIENCES)


@click.command("dashboard")
@click.option("--port", type=int, default=8501, show_default=True, help="Port to listen on.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on: this machine only, unless --allow-remote.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host. The dashboard has no login: only behind an "
    "authenticating proxy (README), and it then offers public only unless --audience "
    f"or ${DASHBOARD_AUDIENCES_ENV} names more.",
)
@click.option(
    "--audience",
    "audiences",
    type=click.Choice(AUDIENCES),
    multiple=True,
    help="Audience(s) the dashboard offers, repeatable; the first is selected "
    f"(default: ${DASHBOARD_AUDIENCES_ENV}, else public, partners, mission with public selected; "
    "with --allow-remote: public only).",
)
def command(port: int, host: str, allow_remote: bool, audiences: tuple[str, ...]) -> None:
    """Serve the dashboard on http://127.0.0.1:PORT: a map of incidents, deliveries
    and patrols, coverage gaps, duplication, deconfliction alerts and agency
    timeliness, with a version (as-of) picker, an audience selector and filters.

    It reads data/published (or $PEACEOPS_DATA_DIR/published) read-only and fetches
    nothing from the internet.
    """
    remote = not is_loopback(host)
    if remote and not allow_remote:
        raise click.UsageError(
            f"--host {host} is not a loopback address and the dashboard has no login: put it "
            "behind an authenticating proxy (README) and pass --allow-remote"
        )
    settings = Settings.resolve()
    try:
        configured = None if audiences else settings.dashboard_audiences
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    offered = offered_audiences(audiences, configured, remote)
    app = Path(__file__).resolve().parents[1] / "serve" / "dashboard" / "app.py"
    env = dict(os.environ)
    env[DATA_DIR_ENV] = str(settings.data_dir)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env[DASHBOARD_AUDIENCES_ENV] = ",".join(offered)
    click.echo(
        f"dashboard on http://{host}:{port} (data: {env[DATA_DIR_ENV]}; "
        f"audiences: {', '.join(offered)})"
    )
    sys.stdout.flush()
    serve(streamlit_args(app, host=host, port=port), env)


def serve(args: list[str], env: dict[str, str]) -> None:
    """Become the Streamlit server (exec, same pid) rather than start it as a child: a
    child outlived a killed `peaceops dashboard` and kept holding the port, whereas
    whatever stops this pid (Ctrl-C, kill, kill -9, a service manager) now stops the
    server itself."""
    os.execve(args[0], args, env)
