"""A version's file list (manifest `files`): every file's sha256 and size, in path order;
a file carried over keeps the previous version's entry and is not read again."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.publish.writer import file_sums


def test_new_files_are_hashed_and_carried_ones_keep_their_entry(tmp_path: Path) -> None:
    contents = {f"b/{i}.parquet": bytes([i]) * (1 << 20) * (i + 1) for i in range(5)}
    contents["a.json"] = b"{}"
    for rel, data in contents.items():
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    # the carried file's entry is the previous version's: not what its bytes hash to here
    carried = {"b/3.parquet": {"sha256": "from the previous version", "bytes": 7}}

    sums = file_sums(tmp_path, carried)

    assert list(sums) == sorted(contents)
    assert sums["b/3.parquet"] == carried["b/3.parquet"]
    for rel, data in contents.items():
        if rel != "b/3.parquet":
            assert sums[rel] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
