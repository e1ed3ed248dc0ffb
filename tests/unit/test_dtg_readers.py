"""The DTG parser is declared once (ingest.feeds.contract.dtg_parts) and read two ways: by ingest
from the decoded batch's columns (the envelope's occurred_at) and by the warehouse's
staging from the stored payload (ended_at and the other times of an entity). On DTGs that
invite misreading, both readers give the same time and precision, and the one a DTG
means; a change to either reader alone fails here."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from ingest.feeds.contract import Columns, Payload, time_sql
from ingest.feeds.registry import TimeSpec
from ingest.sessions import connect

SPEC = TimeSpec(fields=("t",), format="dtg")
M = datetime(2026, 1, 12, 15, 30, tzinfo=UTC)
# text -> the UTC time it means (None: unreadable)
TRICKY: dict[str | None, datetime | None] = {
    "121530ZJAN26": M,
    "121530zjan26": M,  # lower case
    " 121530Z JAN26 ": M,  # spaces around and inside
    "121730BJAN26": M,  # B: UTC+2
    "121030RJAN26": M,  # R: UTC-5
    "130330MJAN26": M,  # M: UTC+12, the next day locally
    "120330YJAN26": M,  # Y: UTC-12
    "010030AJAN26": datetime(2025, 12, 31, 23, 30, tzinfo=UTC),  # back across a year
    "121530ZFÉV26": datetime(2026, 2, 12, 15, 30, tzinfo=UTC),  # French, accented
    "121530ZAOU26": datetime(2026, 8, 12, 15, 30, tzinfo=UTC),  # French, unaccented
    "290000ZFEB28": datetime(2028, 2, 29, tzinfo=UTC),  # a leap day
    "290000ZFEB26": None,  # not a leap year
    "121530JJAN26": None,  # J is no zone
    "122430ZJAN26": None,  # hour 24
    "121560ZJAN26": None,  # minute 60
    "121530ZJAN2026": None,  # a four-digit year
    "1215ZJAN26": None,  # no minutes
    "121530ZXYZ26": None,  # no such month
    "2026-01-12T15:30Z": None,  # ISO is not a DTG
    "": None,
    None: None,
}


def test_both_readers_read_every_tricky_dtg_alike_and_right() -> None:
    texts = list(TRICKY)
    con = connect()
    con.register("batch", pa.table({"t": pa.array(texts, pa.string())}))
    # the payload as ingest stores it (ingest.feeds.envelope)
    con.execute("CREATE TABLE stored AS SELECT to_json(struct_pack(t := t)) AS payload FROM batch")
    ingest = time_sql(Columns(["t"]), SPEC)
    payload = Payload()
    staging = time_sql(payload, SPEC)
    by_ingest = con.sql(f"SELECT {ingest.at}, {ingest.precision} FROM batch").fetchall()
    by_staging = con.sql(
        f"SELECT {staging.at}, {staging.precision} FROM (SELECT {payload.extraction()} FROM stored)"
    ).fetchall()
    assert by_ingest == by_staging
    assert dict(zip(texts, (at for at, _ in by_ingest), strict=True)) == TRICKY
