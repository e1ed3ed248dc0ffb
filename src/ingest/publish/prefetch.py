"""A copy of a file made in the background while publish computes what it needs it for:
the previous version's unified.duckdb an audience may start from (3.3 GB, 9-14 s at 10M
events) is copied while the marts' digests are computed, and given up, chunk by chunk,
when the audience does not start from it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

CHUNK = 64 << 20


class Prefetch:
    def __init__(self, source: Path, target: Path) -> None:
        self.source = source
        self.target = target
        self._stop = threading.Event()
        self._error: OSError | None = None
        self._copied = 0
        self._size = source.stat().st_size
        self._thread = threading.Thread(target=self._copy, daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            with open(self.source, "rb") as src, open(self.target, "wb") as dst:
                while self._copied < self._size and not self._stop.is_set():
                    count = min(CHUNK, self._size - self._copied)
                    sent = os.sendfile(dst.fileno(), src.fileno(), self._copied, count)
                    if not sent:
                        break
                    self._copied += sent
        except OSError as err:
            self._error = err

    def take(self, path: Path) -> None:
        """Wait for the copy and move it to `path`."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._stop.is_set() or self._copied != self._size:
            raise OSError(f"{self.source} was copied short ({self._copied} of {self._size} bytes)")
        os.replace(self.target, path)

    def cancel(self) -> None:
        """Stop copying (within a chunk) and remove the copy; nothing once taken."""
        self._stop.set()
        self._thread.join()
        self.target.unlink(missing_ok=True)
