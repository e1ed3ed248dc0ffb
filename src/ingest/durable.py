"""Durability, once: a file written whole or not at all, a folder's names made durable,
and an exclusive lock whose holder names itself. The event log, landing, the warehouse
build and publishing all use these (DESIGN.md: each append atomic, readers never see a
half-written version)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from ingest.paths import private_opener
from ingest.settings import LOCK_TIMEOUT_ENV, Settings

logger = logging.getLogger(__name__)


def fsync_dir(path: Path) -> None:
    """Make the names in folder `path` durable (a rename or a new file is data of its folder)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, suffix: str = ".tmp") -> Path:
    """`data` at `path`, whole or not at all: written to a private file beside it
    (`.<name>.<random><suffix>`), fsynced, then renamed over it. A write that fails
    removes its file, so a full disk gets its space back; a killed one leaves it for the
    owner's next run to remove."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
    try:
        with open(tmp, "wb", opener=private_opener) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


LOCK_POLL = 0.2  # seconds between two tries


class LockTimeout(RuntimeError):
    """A writer waited for a lock longer than it may; the message names the holder."""


def lock_timeout(seconds: float | None = None) -> float:
    """`seconds` if given, else the settings' (PEACEOPS_LOCK_TIMEOUT, else 600)."""
    return Settings.resolve().lock_timeout if seconds is None else seconds


def _note_holder(fh: IO[str]) -> None:
    fh.truncate(0)
    fh.write(
        json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since": datetime.now(UTC).isoformat(),
            }
        )
    )
    fh.flush()


def _holder(path: Path) -> str:
    """Who holds the lock at `path`, as its holder noted it."""
    try:
        note = json.loads(path.read_text())
        return f"pid {note['pid']} on {note['host']} since {note['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"  # it has not noted itself yet


def _acquire(fh: IO[str], path: Path, what: str, timeout: float) -> None:
    """flock `fh`, waiting at most `timeout` seconds, and saying so once."""
    deadline = time.monotonic() + timeout
    waiting = False
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            raise LockTimeout(
                f"{what} is locked by {_holder(path)} ({path}); gave up after {timeout:g} s: "
                f"let that run finish or stop it, or wait longer ({LOCK_TIMEOUT_ENV}, --lock-timeout)"
            )
        if not waiting:
            waiting = True
            logger.warning("%s is locked by %s; waiting up to %g s", what, _holder(path), timeout)
        time.sleep(min(LOCK_POLL, left))


@contextlib.contextmanager
def holder_lock(path: Path, what: str, timeout: float | None = None) -> Iterator[None]:
    """An exclusive lock whose holder writes who it is into the lock file; a process that
    waits says who it waits for and gives up after `timeout` seconds (`lock_timeout`)."""
    # "a+", not "w": opening must not wipe the current holder's note
    with open(path, "a+", opener=private_opener) as fh:
        _acquire(fh, path, what, lock_timeout(timeout))
        try:
            _note_holder(fh)
            yield
        finally:
            fh.truncate(0)
            fcntl.flock(fh, fcntl.LOCK_UN)
