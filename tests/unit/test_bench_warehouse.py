"""The warehouse benchmark's scenario cache: a rerun with the same parameters takes the
generated scenario from the cache instead of generating it again."""

from __future__ import annotations

from pathlib import Path

from bench import warehouse


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_second_generation_comes_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    records, hit = warehouse.generate(tmp_path / "a", 1, cache)
    assert records > 0 and not hit
    again, hit = warehouse.generate(tmp_path / "b", 1, cache)
    assert (again, hit) == (records, True)
    assert files(tmp_path / "b" / "sim") == files(tmp_path / "a" / "sim")
    assert (tmp_path / "b" / "feeds.yaml").exists()
    (entry,) = cache.iterdir()
    assert entry.name.startswith("1d-")


def test_the_floors_duckdb_draws_no_progress_bar() -> None:
    """The bench prints its own progress lines; DuckDB's bar (on after 2 s on a terminal)
    would draw over them."""
    from bench.common import plain_duckdb

    con = plain_duckdb()
    try:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
    finally:
        con.close()


def test_a_failed_size_is_reported_and_the_others_still_measured() -> None:
    from bench.__main__ import warehouse_sizes
    from bench.common import Row

    def run(n: int) -> list[Row]:
        if n == 3:
            raise RuntimeError("build failed: Out of Memory Error\nTraceback ...")
        return [Row("build-full", f"{n} events", float(n))]

    rows, failures = warehouse_sizes([1, 3, 10], run)
    assert [r.case for r in rows] == ["1 events", "3 events: FAILED", "10 events"]
    assert failures == ["the warehouse at 3 events failed: build failed: Out of Memory Error"]
