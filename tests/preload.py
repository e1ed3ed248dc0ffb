"""Every process the test suite starts runs with tests/loopback_only.c preloaded.

`pytest_configure` (tests/conftest.py) builds the library once per source version and
sets LD_PRELOAD and LOOPBACK_ONLY_LOG for the rest of the run, so Chromium, Streamlit,
dbt, Airflow and any new subprocess cannot reach past loopback: their non-loopback
connects and sends, and their look-ups of outside names, fail inside the process before
any system call, and each one is written to the log. The test runner itself is guarded
in Python (tests/netguard.py).

    python -m tests.preload    # build it and print its path
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).with_name("loopback_only.c")
LOG_VARIABLE = "LOOPBACK_ONLY_LOG"

# Chromium's resolver connects a UDP socket to [2001:4860:4860::8888]:443 before host
# resolutions, to learn whether IPv6 has a route (HostResolverManager::
# StartIPv6ReachabilityCheck, no switch turns it off); WebRTC does the same to 8.8.8.8:53
# and [2001:4860:4860::8888]:53 for its default local address. Refused here like any
# other, they send nothing either way, so they are the only refusals a test may cause.
ROUTE_CHECKS = frozenset({"[2001:4860:4860::8888]:443", "8.8.8.8:53", "[2001:4860:4860::8888]:53"})


class PreloadError(RuntimeError):
    """The library could not be built."""


def library() -> Path:
    """The built library, beside the interpreter's environment, named by its source."""
    text = SOURCE.read_bytes()
    built = Path(sys.prefix) / f"loopback_only-{hashlib.sha256(text).hexdigest()[:12]}.so"
    if built.exists():
        return built
    compiler = shutil.which("cc")
    if compiler is None:
        raise PreloadError("no C compiler (cc): `make test` installs gcc")
    partial = built.with_suffix(f".{os.getpid()}.part")
    done = subprocess.run(
        [
            compiler,
            "-shared",
            "-fPIC",
            "-O2",
            "-Wall",
            "-Werror",
            "-o",
            str(partial),
            str(SOURCE),
            "-ldl",
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise PreloadError(f"cc failed on {SOURCE.name}: {done.stderr.strip()}")
    partial.replace(built)  # atomic: a concurrent run sees the whole library or none
    return built


def refusals(text: str) -> list[str]:
    """The log's lines that are not Chromium's route checks."""
    unexpected = []
    for line in text.splitlines():
        _pid, _program, call, kind, destination = line.split(" ", 4)
        if not (call == "connect" and kind == "dgram" and destination in ROUTE_CHECKS):
            unexpected.append(line)
    return unexpected


if __name__ == "__main__":
    print(library())
