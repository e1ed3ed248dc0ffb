"""An incremental build on the spare warehouse (ingest.warehouse.spare), a build behind the
one in use, catches up what that build had and equals a full refresh of the same log."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.sessions import connect
from ingest.warehouse.runner import build, warehouse_path
from ingest.warehouse.spare import spare_path
from ingest.warehouse.verification import divergences

from ..warehouse.logbuilder import project_registry, simulate_late

pytestmark = pytest.mark.slow


def test_the_spare_catches_up_the_build_it_missed(tmp_path: Path) -> None:
    root = tmp_path / "data"
    deliver = simulate_late(root, "moi.incidents", tmp_path)
    registry = project_registry(root)
    first = build(root, registry=registry, test=False)
    assert first.ok and first.base == "empty", first.failures
    deliver()
    # the late file's increment, on a copy: the spare is the first build's file
    second = build(root, registry=registry, test=False)
    assert second.ok and second.base == "copy", second.failures
    # nothing new since: the spare has the late file still to fold in
    third = build(root, registry=registry, verify=True)
    assert third.ok and third.verified and third.base == "spare", third.failures
    con = connect(warehouse_path(root), read_only=True)
    try:
        assert divergences(con) == []
    finally:
        con.close()
    assert spare_path(warehouse_path(root)).stat().st_nlink == 1
