"""Options more than one command takes."""

from __future__ import annotations

import click

from ingest.settings import DEFAULT_LOCK_TIMEOUT, LOCK_TIMEOUT_ENV

lock_timeout = click.option(
    "--lock-timeout",
    type=float,
    metavar="SECONDS",
    help="Give up on a feed another run is loading after this long "
    f"(default: ${LOCK_TIMEOUT_ENV} or {DEFAULT_LOCK_TIMEOUT:g}).",
)
