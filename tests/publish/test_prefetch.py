"""A background copy of the previous version's database (ingest.publish.prefetch): taken
whole, or given up leaving nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.publish import prefetch
from ingest.publish.prefetch import Prefetch


def test_a_copy_taken_is_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "CHUNK", 4096)  # many chunks
    source = tmp_path / "previous.duckdb"
    source.write_bytes(os.urandom(50_000))
    copy = Prefetch(source, tmp_path / ".copy")
    copy.take(tmp_path / "new.duckdb")
    assert (tmp_path / "new.duckdb").read_bytes() == source.read_bytes()
    assert not (tmp_path / ".copy").exists()
    copy.cancel()  # after taking: nothing to undo
    assert (tmp_path / "new.duckdb").exists()


def test_a_copy_given_up_leaves_nothing_and_cannot_be_taken(tmp_path: Path) -> None:
    source = tmp_path / "previous.duckdb"
    with open(source, "wb") as fh:
        fh.truncate(256 << 20)  # sparse: large to copy, nothing on disk
    copy = Prefetch(source, tmp_path / ".copy")
    copy.cancel()
    assert not (tmp_path / ".copy").exists()
    with pytest.raises(OSError, match="copied short"):
        copy.take(tmp_path / "new.duckdb")
    assert not (tmp_path / "new.duckdb").exists()
