"""Run a benchmark stage in a forked child: its wall time and its own peak memory."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from typing import Any


def _child(fn: Callable[..., Any], args: tuple, queue: mp.Queue) -> None:
    start = time.perf_counter()
    try:
        result, error = fn(*args), None
    except Exception as err:  # reported to the parent, which raises it
        result, error = None, f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((result, error, seconds, peak_mb))


def in_child(fn: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    """(result, seconds, peak resident MB) of fn(*args) run in a forked process."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    result, error, seconds, peak_mb = queue.get()
    proc.join()
    if error:
        raise RuntimeError(error)
    return result, seconds, peak_mb
