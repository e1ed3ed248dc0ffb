"""A reader of the published dataset for the publish tests, in a module of its own: the
test that runs it in a spawned process must not make that process import the test
module (hypothesis, the gate, the warehouse factory), which took minutes to start on a
loaded machine."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ingest.publish.writer import sha256_file


def check_version(version: Path) -> int:
    """Every file the manifest names has its sha256, and no other file exists; returns
    the number of files read."""
    manifest = json.loads((version / "manifest.json").read_text())
    listed = manifest["files"]
    actual = {
        str(p.relative_to(version))
        for p in version.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert actual == set(listed), (version, actual ^ set(listed))
    for name, info in listed.items():
        assert sha256_file(version / name) == info["sha256"], name
    return len(listed)


def read_current(root: str, stop: Any, progress: Any, queue: Any) -> None:
    """Read `current` again and again until `stop` is set: resolve it once per read,
    check every sha256. `progress` (reads, versions seen) tells the test how far it got,
    so the test waits for reads rather than for a time a loaded machine may not give."""
    reads = files = 0
    errors: list[str] = []
    seen: set[str] = set()
    link = Path(root) / "published" / "current"
    while not stop.is_set():
        if not link.is_symlink():  # a version is published before the reader starts
            errors.append("current is missing")
            continue
        version = Path(os.path.realpath(link))
        try:
            files += check_version(version)
            reads += 1
            seen.add(version.name)
        except AssertionError as err:
            errors.append(f"{version.name}: {err}")
        except FileNotFoundError as err:  # a pruned version (keep is large here: never)
            errors.append(f"vanished {version.name}: {err}")
        progress[0], progress[1] = reads, len(seen)
    queue.put({"reads": reads, "files": files, "errors": errors, "versions": len(seen)})
