"""A command's failure as one line: what failed and, where the hub knows it, the fix."""

from __future__ import annotations

import errno

from ingest.durable import LockTimeout
from ingest.errors import flat, one_line
from ingest.feeds.connectors.base import ConnectorError
from ingest.feeds.registry import RegistryError
from ingest.publish.writer import GateNotPassed
from ingest.warehouse.country_pack import PackError

# What to do about the disk errors every stage can meet.
DISK_FIXES = {
    errno.ENOSPC: "free space on the data directory's disk, then rerun",
    errno.EROFS: "the data directory is read-only: point PEACEOPS_DATA_DIR at a writable one",
    errno.EACCES: "this user may not write there: check the data directory's owner and modes",
}


def explain(err: BaseException) -> str:
    """One line for the command line: the failure and what to do about it."""
    text = one_line(err)
    if "Could not set lock on file" in str(err):  # DuckDB: one writer per database file
        return (
            "the warehouse is open in another process (a build or publish still running): "
            f"wait for it to finish, then rerun ({text})"
        )
    if isinstance(err, OSError) and err.errno in DISK_FIXES:
        return f"{text}: {DISK_FIXES[err.errno]}"
    if isinstance(err, RegistryError):
        return f"{flat(err)}; fix the feed registry ($PEACEOPS_FEEDS, else ./feeds.yaml, else the project's)"
    if isinstance(err, PackError):
        return f"{flat(err)}; fix the country pack (docs/country-packs.md), or feeds.yaml's country_pack"
    if isinstance(
        err, (LockTimeout, ConnectorError, GateNotPassed)
    ):  # their messages say what to do
        return flat(err)
    return f"{text} (peaceops -v shows where it failed)"
