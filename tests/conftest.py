"""Shared test helpers: a small feed definition and batches built in memory; and the
guards that keep every test, and every process it starts, on loopback."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from ingest.feeds.decide import decide
from ingest.feeds.decode import POS
from ingest.feeds.envelope import envelope_sql
from ingest.feeds.registry import Feed, parse_registry
from ingest.log.eventlog import Commit, Counts, EventLog
from tests import netguard, preload

pytest_plugins = ("pytester",)  # tests/unit/test_netguard.py runs a test that phones home

TEST_FEED_YAML = """
version: 2
agencies:
  - {id: test, name: Test agency, kind: NGO}
feeds:
  - id: test.reports
    agency: test
    kind: file_drop
    format: csv
    location: inbox/test.reports
    schedule: "@daily"
    releasability: partners
    schema_version: 1
    entity: none
    mapping:
      record_id: [id]
      occurred_at: {fields: [when], format: iso}
      supersedes: [replaces]
      retraction: {field: status, values: [retracted]}
      event_types: {reported: test.reported, corrected: test.corrected, retracted: test.retracted}
"""


def pytest_configure(config: pytest.Config) -> None:
    """The whole run, collection included, reaches nothing past loopback: in-process by
    the Python guard, in every subprocess by the preloaded library (tests/preload.py)."""
    guard = ExitStack()
    guard.enter_context(netguard.loopback_only())
    config.add_cleanup(guard.close)
    try:
        library = str(preload.library())
    except preload.PreloadError as error:
        raise pytest.UsageError(str(error)) from None
    preloaded = os.environ.get("LD_PRELOAD", "").split()
    if library not in preloaded:
        os.environ["LD_PRELOAD"] = " ".join([library, *preloaded])
    # a pytest-xdist worker inherits the controller's log: each keeps its own, or one
    # worker's refused subprocess would fail the other's test
    if os.environ.get("PYTEST_XDIST_WORKER") or not os.environ.get(preload.LOG_VARIABLE):
        folder = tempfile.mkdtemp(prefix="loopback-only-")
        os.environ[preload.LOG_VARIABLE] = str(Path(folder) / "refused.log")
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Spark tests need the `spark` extra and Java (`make spark-test`): deselected unless
    the -m expression names them, so `pytest` and `pytest -m "not slow"` leave them out."""
    if "spark" in (config.option.markexpr or ""):
        return
    spark = [item for item in items if item.get_closest_marker("spark")]
    if spark:
        config.hook.pytest_deselected(items=spark)
        items[:] = [item for item in items if not item.get_closest_marker("spark")]


@pytest.fixture(autouse=True)
def _loopback_only_check() -> Iterator[None]:
    """Fail the test even when the code under test swallowed the guard's error, or a
    process it started was refused."""
    log = Path(os.environ[preload.LOG_VARIABLE])
    start = log.stat().st_size if log.exists() else 0
    yield
    if refused := netguard.taken():
        pytest.fail("reached beyond loopback: " + "; ".join(refused), pytrace=False)
    if log.exists() and (found := preload.refusals(log.read_bytes()[start:].decode())):
        pytest.fail("a subprocess reached beyond loopback: " + "; ".join(found), pytrace=False)


@pytest.fixture(autouse=True)
def _main_module_kept() -> Iterator[None]:
    """A test that leaves another module as `__main__` fails: every process a later test
    spawns would run that module first (Streamlit's AppTest installed the page script)."""
    main = sys.modules["__main__"]
    yield
    if sys.modules["__main__"] is not main:
        replaced = getattr(sys.modules["__main__"], "__file__", sys.modules["__main__"])
        sys.modules["__main__"] = main
        pytest.fail(f"the test left {replaced} as sys.modules['__main__']", pytrace=False)


def two_feed_registry(folder: Path) -> Path:
    """`folder/feeds.yaml`: the test feed and one like it, test.second, with their
    inboxes under `folder` (not the data directory)."""
    head, entry = TEST_FEED_YAML.split("feeds:\n", 1)
    text = head + "feeds:\n" + entry + entry.replace("test.reports", "test.second")
    path = folder / "feeds.yaml"
    path.write_text(text.replace("location: inbox/", f"location: {folder}/inbox/"))
    return path


def make_feed(root: Path) -> Feed:
    return parse_registry(TEST_FEED_YAML, {}, root).feeds[0]


def batch(rows: list[dict[str, str | None]], columns: tuple[str, ...] | None = None) -> pa.Table:
    """A decoded batch: string columns plus POS, as the decoders give them."""
    columns = columns or ("id", "when", "replaces", "status", "text")
    data = {c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns}
    data[POS] = pa.array([f"row={i + 1}" for i in range(len(rows))], pa.string())
    return pa.table(data)


def append(
    log: EventLog, feed: Feed, rows: list[dict], now: datetime | None = None
) -> tuple[Counts, Commit | None]:
    """Append `rows` to the log as one load of `feed` and commit it."""
    with log.begin(feed.id, now) as load:
        b = batch(rows)
        sql = envelope_sql(feed, b.column_names, "batch", source_sha256="s", load_id=load.load_id)
        counts = load.store(decide(sql), b, source={"sha256": f"s{len(rows)}", "name": "t"})
        return counts, load.commit()


def drop(feed: Feed, name: str, text: str) -> Path:
    """Put a file into a file-drop feed's inbox."""
    inbox = Path(feed.location)
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_text(text)
    return inbox / name


@pytest.fixture
def feed(tmp_path: Path) -> Feed:
    return make_feed(tmp_path)


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo run (simulate 14 days, serve, ingest, build, gate, publish) shared by the
    tests that read a published dataset; a test that changes it works on a copy."""
    from ingest.lab.demo import DEMO_CREDENTIALS, run_demo

    root = tmp_path_factory.mktemp("demo-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEACEOPS_DATA_DIR", str(root))
        mp.setenv("PEACEOPS_FEEDS", str(Path(__file__).parents[1] / "feeds.yaml"))
        # run_demo sets these two in os.environ; setting them first restores them after.
        mp.setenv("PEACEOPS_FEEDS_URL", "http://127.0.0.1:9")
        mp.setenv("PEACEOPS_UNMIC_CREDENTIALS", DEMO_CREDENTIALS)
        assert run_demo(root, days=14, seed=7, credentials=DEMO_CREDENTIALS)
    return root
