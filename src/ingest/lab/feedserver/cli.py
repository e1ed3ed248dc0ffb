"""`peaceops serve-feeds`: run the simulated mission API until Ctrl-C."""

from __future__ import annotations

import dataclasses
import logging
import signal
import time
from pathlib import Path

import click

from ingest.net import is_loopback


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command("serve-feeds")
@click.option("--port", type=int, default=8765, show_default=True, help="Port (0 = any free).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host. The API serves mission-releasable demo data "
    "behind demo credentials: only for a closed lab network.",
)
@click.option(
    "--sim-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Simulator output to serve (default: <data dir>/sim).",
)
@click.option("--client-id", default="demo-client", show_default=True, help="Accepted client id.")
@click.option(
    "--client-secret",
    default="demo-secret",
    show_default=True,
    envvar="PEACEOPS_FEEDS_CLIENT_SECRET",
    help="Accepted client secret (or $PEACEOPS_FEEDS_CLIENT_SECRET).",
)
@click.option(
    "--faults",
    "realistic",
    is_flag=True,
    help="Switch on a realistic mix: slow pages, 5% HTTP 500s, 429 throttling and "
    "tokens that expire after 60 s. The options below override single parts.",
)
@click.option("--slow-every", type=int, help="Every Nth page is slow.")
@click.option("--slow-seconds", type=float, help="How long a slow page sleeps.")
@click.option("--error-every", type=int, help="Every Nth page answers HTTP 500.")
@click.option("--error-rate", type=float, help="Share of pages (0..1) answering HTTP 500.")
@click.option("--throttle-every", type=int, help="Every Nth page answers 429.")
@click.option("--retry-after", type=int, help="Seconds sent in Retry-After with a 429.")
@click.option("--token-ttl", type=float, help="Seconds an access token stays valid.")
@click.option("--down-from", type=int, help="From the Nth page on, every page answers HTTP 500.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --error-rate.")
def command(
    port: int,
    host: str,
    allow_remote: bool,
    sim_dir: Path | None,
    client_id: str,
    client_secret: str,
    realistic: bool,
    seed: int,
    **overrides: int | float | None,
) -> None:
    """Serve the simulated UN mission API that the http_json feeds pull.

    Serves every <sim-dir>/api/<feed_id>/records.jsonl written by `peaceops
    simulate` as GET /api/v1/<feed_id>/records?since=<cursor>&limit=<n>, paged
    and behind a bearer token from POST /auth/token (JSON client_id and
    client_secret). GET /health answers "ok". Faults (slow pages, HTTP 500s,
    429 throttling, expiring tokens) are off unless asked for, so the
    connector's retry logic can be watched at work. Logs each request; runs
    until Ctrl-C.
    """
    from ingest.lab.feedserver.server import Faults, serve
    from ingest.settings import Settings

    if not is_loopback(host) and not allow_remote:
        raise click.UsageError(
            f"--host {host} is not a loopback address; pass --allow-remote to listen on it"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sim_dir = sim_dir or Settings.resolve().data_dir / "sim"
    faults = Faults.realistic(seed) if realistic else Faults(seed=seed)
    given = {k: v for k, v in overrides.items() if v is not None}
    # each option's click type is its field's (int or float), which **overrides cannot say
    faults = dataclasses.replace(faults, **given)  # type: ignore[arg-type]

    api = sim_dir / "api"
    feeds = (
        sorted(p.name for p in api.iterdir() if (p / "records.jsonl").is_file())
        if api.is_dir()
        else []
    )
    if not feeds:
        click.echo(
            f"warning: no {api}/<feed_id>/records.jsonl yet; run `peaceops simulate`", err=True
        )

    try:
        server = serve(sim_dir, host, port, faults=faults, credentials={client_id: client_secret})
    except OSError as err:
        raise click.ClickException(f"cannot listen on {host}:{port}: {err}") from None
    click.echo(f"Serving {len(feeds)} feed(s) from {sim_dir} at {server.url}", err=True)
    for feed_id in feeds:
        click.echo(f"  {server.url}/api/v1/{feed_id}/records", err=True)
    if faults != Faults(seed=seed):
        click.echo(f"Faults: {faults}", err=True)
    click.echo("Press Ctrl-C to stop.", err=True)
    # A service manager's SIGTERM stops the server as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while server.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        click.echo("stopped", err=True)
