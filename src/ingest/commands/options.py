"""Options more than one command takes."""

from __future__ import annotations

import click

lock_timeout = click.option(
    "--lock-timeout",
    type=float,
    metavar="SECONDS",
    help="Give up on a feed another run is loading after this long "
    "(default: $PEACEOPS_LOCK_TIMEOUT or 600).",
)
