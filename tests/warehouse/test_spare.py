"""The spare warehouse (ingest.warehouse.spare): an incremental build writes into the
warehouse before the one in use only when nobody else can have it and its rows may be
continued; otherwise it says why and leaves no file behind."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.sessions import connect
from ingest.warehouse.runner import (
    AS_OF,
    FULL_REFRESH,
    INCREMENTAL,
    PARTIAL,
    BuildState,
    read_state,
    write_state,
)
from ingest.warehouse.spare import keep_as_spare, spare_path, take_spare

FINGERPRINT = "f" * 16


def warehouse(path: Path, build_id: str, mode: str = INCREMENTAL, verified: str = "") -> None:
    now = datetime.now(UTC)
    con = connect(path)
    try:
        write_state(con, BuildState(build_id, now, mode, FINGERPRINT, None, now, True))
        if verified:
            con.execute(f"CREATE TABLE state.verification AS SELECT '{verified}' AS build_id")
    finally:
        con.close()


@pytest.fixture
def current(tmp_path: Path) -> Path:
    """A warehouse in use (build 2, last compared with a full refresh in build 2) and its
    spare (build 1, compared in build 1)."""
    path = tmp_path / "build.duckdb"
    warehouse(path, "b1", FULL_REFRESH, verified="b1")
    keep_as_spare(path)
    path.unlink()  # what the switch of build 2 does: its file renamed over this one
    warehouse(path, "b2", verified="b2")
    return path


def state_of(path: Path) -> tuple[str | None, list[tuple]]:
    con = connect(path, read_only=True)
    try:
        state = read_state(con)
        return state.build_id if state else None, con.sql(
            "SELECT * FROM state.verification"
        ).fetchall()
    finally:
        con.close()


def test_an_increment_continues_the_spare_with_the_last_comparison(
    current: Path, tmp_path: Path
) -> None:
    work = tmp_path / ".build-3.duckdb"
    assert take_spare(current, work, FINGERPRINT) is None
    assert not spare_path(current).exists()
    # its own rows and watermarks (build 1's), the comparison of the warehouse in use
    assert state_of(work) == ("b1", [("b2",)])
    assert state_of(current) == ("b2", [("b2",)])


def no_spare(current: Path) -> None:
    spare_path(current).unlink()


def cut_short(current: Path) -> None:
    """A switch cut short between the link and the rename: the spare IS the one in use."""
    spare_path(current).unlink()
    os.link(current, spare_path(current))


def partial_spare(current: Path) -> None:
    warehouse(spare_path(current), "b1", PARTIAL)


def historical_in_use(current: Path) -> None:
    warehouse(current, "b2", AS_OF)


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (no_spare, "no spare"),
        (cut_short, "another name"),
        (partial_spare, "not built as known"),
        (historical_in_use, "not built as known"),
    ],
)
def test_a_spare_that_cannot_be_continued_is_not_written(
    current: Path, tmp_path: Path, spoil: Callable[[Path], None], why: str
) -> None:
    spoil(current)
    work = tmp_path / ".build-3.duckdb"
    reason = take_spare(current, work, FINGERPRINT)
    assert reason is not None and why in reason
    assert not work.exists()
    assert state_of(current)[0] == "b2"


def test_a_spare_of_other_code_is_not_continued(current: Path, tmp_path: Path) -> None:
    work = tmp_path / ".build-3.duckdb"
    reason = take_spare(current, work, "another fingerprint")
    assert reason is not None and "other code" in reason
    assert not work.exists() and not spare_path(current).exists()


def test_a_spare_open_in_another_process_is_left_to_it(current: Path, tmp_path: Path) -> None:
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.sql('SELECT build_id FROM state.build').fetchall()[0][0], flush=True); "
            "sys.stdin.readline(); "
            "print(con.sql('SELECT build_id FROM state.build').fetchall()[0][0], flush=True)",
            str(spare_path(current)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin and reader.stdout
    try:
        assert reader.stdout.readline().strip() == "b1"
        work = tmp_path / ".build-3.duckdb"
        reason = take_spare(current, work, FINGERPRINT)
        assert reason is not None and "open in another process" in reason
        assert not work.exists()
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "b1"  # its file, unchanged
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=30) == 0
