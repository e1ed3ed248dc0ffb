"""A spy on the system calls that make files durable and visible, for tests of their order.

A SIGKILL leaves the page cache intact, so a crash test cannot tell whether a file was
fsynced before the rename that publishes it; the calls themselves can. `DiskSpy` records
every os.fsync (as the path its descriptor has open), os.rename / os.replace (the source
as `from`, then the destination), os.symlink and os.unlink, in call order, and can make
one of them fail, as a full or broken disk would.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

Op = tuple[str, Path]
WRAPPED = ("fsync", "rename", "replace", "symlink", "unlink")


class DiskSpy:
    def __init__(self, counted: Callable[[Op], bool] = lambda op: True, fail_at: int | None = None):
        """`counted`: the calls that are steps (by their recorded destination); the step
        numbered `fail_at` (from 0) raises OSError(EIO) instead of happening."""
        self.ops: list[Op] = []
        self.steps: list[Op] = []
        self.counted = counted
        self.fail_at = fail_at

    def _wrap(self, name: str, real: Callable) -> Callable:
        def spy(*args, **kwargs):
            if name == "fsync":
                ops = [("fsync", Path(os.readlink(f"/proc/self/fd/{args[0]}")))]
            elif name in ("rename", "replace"):
                ops = [("from", Path(args[0])), ("rename", Path(args[1]))]
            else:  # symlink(target, link), unlink(path)
                ops = [(name, Path(args[-1] if name == "symlink" else args[0]))]
            if self.counted(ops[-1]):
                if len(self.steps) == self.fail_at:
                    self.steps.append(ops[-1])
                    raise OSError(errno.EIO, f"injected failure of {name}", str(ops[-1][1]))
                self.steps.append(ops[-1])
            self.ops += ops
            return real(*args, **kwargs)

        return spy

    @contextmanager
    def watching(self) -> Iterator[DiskSpy]:
        with pytest.MonkeyPatch.context() as mp:
            for name in WRAPPED:
                mp.setattr(os, name, self._wrap(name, getattr(os, name)))
            yield self

    def first(self, op: str, path: Path) -> int:
        """Where `op` of `path` first happened; fails the test when it never did."""
        for i, (o, p) in enumerate(self.ops):
            if o == op and p == path:
                return i
        pytest.fail(f"no {op} of {path}; saw {self.ops}")

    def before(self, op: str, path: Path, moment: int) -> None:
        """`op` of `path` happened before the call recorded at `moment`."""
        assert self.first(op, path) < moment, f"{op} of {path} comes after {self.ops[moment]}"
