"""The publish switch, step by step (tests/diskspy.py): a version's files are on disk
before it is renamed into place, it is in place before `current` points at it, and a
publish that fails at any step of the switch leaves `current` naming a whole version
(the old one unless the switch itself was done) and the next publish cleans up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.gate import GateResult
from ingest.publish.reader import current_version, published_dir, versions
from ingest.publish.writer import publish
from tests.diskspy import DiskSpy, Op
from tests.gate.factory import make_warehouse

from .published_reader import check_version


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("switch") / "build.duckdb"
    make_warehouse(path)
    return path


def published_once(root: Path, warehouse: Path) -> tuple[GateResult, Path]:
    """A data directory with `warehouse` built and published once."""
    (root / "warehouse").mkdir(parents=True)
    shutil.copy(warehouse, root / "warehouse" / "build.duckdb")
    gate = GateResult(
        passed=True,
        warehouse=root / "warehouse" / "build.duckdb",
        checked_at="2026-11-01T00:00:00+00:00",
    )
    return gate, publish(root, gate)


def in_published(root: Path):
    """The steps of the switch: calls on `published/` itself or a name directly in it
    (not the files inside a version being written)."""
    base = published_dir(root)
    return lambda op: base in (op[1], op[1].parent)


def test_a_version_is_durable_before_current_names_it(tmp_path: Path, warehouse: Path) -> None:
    gate, _ = published_once(tmp_path, warehouse)
    with DiskSpy().watching() as disk:
        version = publish(tmp_path, gate)
    base = published_dir(tmp_path)
    renamed = disk.first("rename", version)
    (_, written) = disk.ops[renamed - 1]
    for path in [written, *(written / p.relative_to(version) for p in version.rglob("*"))]:
        disk.before("fsync", path, renamed)
    switched = disk.first("rename", base / "current")
    disk.before("fsync", base, switched)  # the version's own name, before current names it
    assert renamed < switched
    assert ("fsync", base) in disk.ops[switched:]


def test_a_publish_failing_at_any_step_of_the_switch_leaves_a_whole_current(
    tmp_path: Path, warehouse: Path
) -> None:
    gate, _ = published_once(tmp_path / "count", warehouse)
    with DiskSpy(in_published(tmp_path / "count")).watching() as counting:
        publish(tmp_path / "count", gate)
    steps: list[Op] = counting.steps
    names = [(op, path.name) for op, path in steps]
    switch = names.index(("rename", "current"))
    assert any(op == "rename" for op, _ in names[:switch]), names  # the version's, before
    for k, step in enumerate(names):
        root = tmp_path / f"fail-{k}"
        gate, old = published_once(root, warehouse)
        failing = DiskSpy(in_published(root), fail_at=k)
        with failing.watching(), pytest.raises(OSError, match="injected"):
            publish(root, gate)
        now = current_version(root)
        assert now is not None, f"no current after a failure at {step}"
        check_version(now)
        assert now == (old.resolve() if k <= switch else versions(root)[-1].resolve()), step
        # the next publish succeeds and leaves no debris
        last = publish(root, gate)
        assert current_version(root) == last.resolve()
        left = {p.name for p in published_dir(root).iterdir()}
        assert left == {*(v.name for v in versions(root)), "current", ".lock"}, step
