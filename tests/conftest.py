"""Shared test helpers: a small feed definition and batches built in memory; and the
guard that keeps every test on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pytest

from ingest.decode import POS
from ingest.registry import Feed, parse_registry
from tests import netguard

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
    """The whole run, collection included, reaches nothing past loopback in-process;
    subprocesses are measured with strace instead (tests/egress.py)."""
    guard = ExitStack()
    guard.enter_context(netguard.loopback_only())
    config.add_cleanup(guard.close)


@pytest.fixture(autouse=True)
def _loopback_only_check() -> Iterator[None]:
    """Fail the test even when the code under test swallowed the guard's error."""
    yield
    if refused := netguard.taken():
        pytest.fail("reached beyond loopback: " + "; ".join(refused), pytrace=False)


def make_feed(root: Path) -> Feed:
    return parse_registry(TEST_FEED_YAML, {}, root).feeds[0]


def batch(rows: list[dict[str, str | None]], columns: tuple[str, ...] | None = None) -> pa.Table:
    """A decoded batch: string columns plus POS, as the decoders give them."""
    columns = columns or ("id", "when", "replaces", "status", "text")
    data = {c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns}
    data[POS] = pa.array([f"row={i + 1}" for i in range(len(rows))], pa.string())
    return pa.table(data)


@pytest.fixture
def feed(tmp_path: Path) -> Feed:
    return make_feed(tmp_path)


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo run (simulate 14 days, serve, ingest, build, gate, publish) shared by the
    tests that read a published dataset; a test that changes it works on a copy."""
    from ingest.demo import DEMO_CREDENTIALS, run_demo

    root = tmp_path_factory.mktemp("demo-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEACEOPS_DATA_DIR", str(root))
        mp.setenv("PEACEOPS_FEEDS", str(Path(__file__).parents[1] / "feeds.yaml"))
        # run_demo sets these two in os.environ; setting them first restores them after.
        mp.setenv("PEACEOPS_FEEDS_URL", "http://127.0.0.1:9")
        mp.setenv("PEACEOPS_UNMIC_CREDENTIALS", DEMO_CREDENTIALS)
        assert run_demo(root, days=14, seed=7, credentials=DEMO_CREDENTIALS)
    return root
