"""The pure parts of the Spark target (ingest.warehouse.spark): which files a build reads,
the contract SQL it runs in Spark's workers, the loopback-only settings. No Spark here;
tests/spark/ builds on Spark (`make spark-test`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from ingest.feeds.contract import dbt_contract
from ingest.log.eventlog import EventLog
from ingest.sessions import connect
from ingest.warehouse import spark as spark_target
from tests.warehouse.logbuilder import append, feeds, project_registry, utc


@pytest.fixture
def log_root(tmp_path: Path) -> Path:
    by_id = feeds(tmp_path)
    sitreps, patrols = by_id["unmic.sitreps"], by_id["ncbatt.patrols"]
    append(
        tmp_path,
        sitreps,
        [{"report_id": "S1", "occurred_at": "2026-03-01T10:00Z"}],
        utc("2026-03-01"),
    )
    append(
        tmp_path, patrols, [{"patrol_ref": "P1", "start_dtg": "011200ZMAR26"}], utc("2026-03-02")
    )
    return tmp_path


def test_committed_files_are_the_commit_records_files_never_a_half_written_load(
    log_root: Path,
) -> None:
    registry = project_registry(log_root)
    _, snapshot = EventLog(log_root).snapshot()
    # what a load killed before its commit leaves: a file in the feed's folder, in no record
    committed = snapshot.live_files()
    debris = committed[0].with_name("20990101T000000.000000Z-unmic.sitreps-dead00-0.parquet")
    shutil.copyfile(committed[0], debris)
    files = spark_target.committed_files(snapshot, registry)
    assert files.events == committed and debris not in files.events
    assert [p.parent.name for p in files.by_entity["incident"]] == ["feed_id=unmic.sitreps"]
    assert [p.parent.name for p in files.by_entity["patrol"]] == ["feed_id=ncbatt.patrols"]
    assert files.by_entity["presence"] == []
    # the same files the DuckDB build's views name
    assert all(str(p) in snapshot.select_sql() for p in files.events)
    # a load committed after the snapshot is not read by a build of that snapshot
    append(
        log_root,
        feeds(log_root)["unmic.sitreps"],
        [{"report_id": "S2", "occurred_at": "2026-03-03T10:00Z"}],
        utc("2026-03-03"),
    )
    assert spark_target.committed_files(snapshot, registry).events == committed
    assert len(spark_target.committed_files(EventLog(log_root), registry).events) == 3


def test_contract_sql_reads_a_batch_as_the_staging_models_do(log_root: Path) -> None:
    registry = project_registry(log_root)
    contract = dbt_contract(registry)["incident"]
    sql = spark_target.contract_sql(contract)
    _, snapshot = EventLog(log_root).snapshot()
    con = connect()
    try:
        batch = con.sql(snapshot.select_sql()).to_arrow_table()
        con.register("batch", batch)
        out = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    # every event of an incident feed, with every staged column of the entity
    assert out.num_rows == 1
    assert out.column_names[: batch.num_columns] == batch.column_names
    assert out.column_names[batch.num_columns :] == list(contract["empty"])
    assert out.column("time_precision").to_pylist() == ["minute"]


def test_contract_sql_of_an_entity_without_feeds_gives_no_rows() -> None:
    sql = spark_target.contract_sql({"empty": {"time_text": "CAST(NULL AS VARCHAR)"}, "feeds": []})
    con = connect()
    try:
        con.register("batch", pa.table({"feed_id": ["x"]}))
        assert con.sql(sql).fetchall() == []
    finally:
        con.close()


def test_spark_binds_loopback_only_and_shows_no_ui(tmp_path: Path) -> None:
    conf = spark_target.spark_conf(tmp_path)
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.ui.enabled"] == "false"
    assert not any("jars.packages" in k or "ivy" in k.lower() for k in conf)
    env = spark_target.spark_env()
    assert env["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"


def test_a_spark_build_copies_back_every_table_the_gate_reads() -> None:
    from ingest.gate.marts import FOLDED, SCHEMA, VOCABULARIES
    from ingest.warehouse.spark import COPIED_SCHEMAS, COPIED_TABLES

    assert SCHEMA in COPIED_SCHEMAS
    assert set(FOLDED) <= set(COPIED_TABLES["intermediate"])
    read = {sql.split(" FROM ")[1].split(".")[0] for sql in VOCABULARIES.values()}
    assert read <= {*COPIED_SCHEMAS, "registry", "pack"}
