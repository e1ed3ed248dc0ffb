"""Peers on the ingest benchmark's CSV (`python -m bench --peers`): what the usual tools
take for the same work, beside DuckDB alone computing the envelopes in the same run.

- polars and pandas compute the hub's envelope (sha256 event id over an md5 of the
  record's content, JSON payload, day-first time parsed, event type) and write Parquet;
  neither has sha256 or md5 as a column expression, so the hashes are per-row Python.
- dlt loads the file, read by pyarrow, into a DuckDB database: no envelope at all.

These are dev-only dependencies (pyproject's dev group); nothing in the hub uses them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from bench.common import Row, best_of
from bench.ingest import envelope_floor, make_csv
from bench.stages import in_child

FEED = "bench.reports"
TIME_FORMAT = "%d/%m/%Y %H:%M"


def event_id(record_id: str, content: str) -> str:
    """The hub's id: sha256(feed, record id, md5(content)), as ingest.feeds.envelope computes it."""
    inner = hashlib.md5(content.encode()).hexdigest()
    return hashlib.sha256(f"{FEED}\x1f{record_id}\x1f{inner}".encode()).hexdigest()[:32]


def content_of(names: list[str], values: tuple) -> str:
    """The fields that have a value, in name order (ingest.feeds.envelope's content)."""
    return "\x1f".join(f"{n}\x1e{v}" for n, v in zip(names, values, strict=True) if v is not None)


def polars_envelope(csv: Path, out: Path) -> int:
    import polars as pl

    df = pl.read_csv(csv, infer_schema=False)
    names = sorted(df.columns)
    at = names.index("report_id")
    ids = [event_id(row[at], content_of(names, row)) for row in df.select(names).iter_rows()]
    events = df.select(
        pl.Series("event_id", ids),
        pl.lit(FEED).alias("feed_id"),
        pl.when(pl.col("replaces").is_not_null())
        .then(pl.lit("r.corrected"))
        .otherwise(pl.lit("r.reported"))
        .alias("event_type"),
        pl.col("report_id").alias("record_id"),
        pl.col("replaces").alias("supersedes"),
        pl.col("reported").str.strptime(pl.Datetime("us", "UTC"), TIME_FORMAT).alias("occurred_at"),
        pl.struct(names).struct.json_encode().alias("payload"),
    )
    events.write_parquet(out)
    return events.height


def pandas_envelope(csv: Path, out: Path) -> int:
    import pandas as pd

    df = pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=[""])
    names = sorted(df.columns)
    ordered = df[names].astype(object).where(df[names].notna(), None)
    rows = list(ordered.itertuples(index=False, name=None))
    events = pd.DataFrame(
        {
            "event_id": [
                event_id(rid, content_of(names, row))
                for rid, row in zip(df["report_id"], rows, strict=True)
            ],
            "feed_id": FEED,
            "event_type": df["replaces"].notna().map({True: "r.corrected", False: "r.reported"}),
            "record_id": df["report_id"],
            "supersedes": df["replaces"],
            "occurred_at": pd.to_datetime(df["reported"], format=TIME_FORMAT, utc=True),
            "payload": [json.dumps(dict(zip(names, row, strict=True))) for row in rows],
        }
    )
    events.to_parquet(out, index=False)
    return len(events)


def dlt_load(csv: Path, out: Path) -> int:
    """The file as an Arrow table (all text) loaded by dlt into DuckDB, no envelope."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # no usage reports sent out
    import dlt
    import pyarrow.csv as pacsv

    with csv.open("rb") as f:
        header = f.readline().decode().strip().split(",")
    table = pacsv.read_csv(
        csv, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, "string"))
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_peers",
        destination=dlt.destinations.duckdb(str(out)),
        pipelines_dir=str(out.parent / "dlt"),
        dataset_name="bench",
    )
    pipeline.run(table, table_name="reports", write_disposition="replace")
    return table.num_rows


PEERS = {
    "polars, the same envelope": polars_envelope,
    "pandas, the same envelope": pandas_envelope,
    "dlt, Arrow table into DuckDB, no envelope": dlt_load,
}


def run(rows: int) -> list[Row]:
    """Each peer once, in its own process (its peak memory is its own), against the best
    of three of DuckDB computing the envelopes over the same file in the same run."""
    work = Path(tempfile.mkdtemp(prefix="peaceops-bench-peers-"))
    try:
        csv = work / "reports.csv"
        make_csv(csv, rows)
        floor = best_of(3, lambda: envelope_floor(csv, work / "envelope.parquet"))
        out = []
        for i, (name, fn) in enumerate(PEERS.items()):
            written, seconds, peak = in_child(fn, csv, work / f"peer{i}.out")
            if written != rows:
                raise RuntimeError(f"{name}: {written} rows of {rows}")
            out.append(
                Row(
                    "peer",
                    f"{rows / 1e6:g}M rows: {name}",
                    seconds,
                    floor,
                    {"floor": "DuckDB computing the envelopes", "peak_mb": f"{peak:,.0f}"},
                )
            )
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)
