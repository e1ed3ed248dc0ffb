"""The peers of the ingest benchmark do the hub's work: their event ids, types, times
and payloads are the hub's for the same file (else the comparison measures less)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import ingest, peers
from ingest.sessions import connect


@pytest.mark.parametrize("peer", [peers.polars_envelope, peers.pandas_envelope])
def test_peer_computes_the_hubs_envelopes(peer, tmp_path: Path) -> None:
    csv = tmp_path / "reports.csv"
    ingest.make_csv(csv, 200)
    ingest.envelope_floor(csv, tmp_path / "hub.parquet")
    assert peer(csv, tmp_path / "peer.parquet") == 200
    con = connect()
    columns = "event_id, event_type, record_id, supersedes, occurred_at"
    hub = con.sql(f"SELECT {columns}, payload FROM '{tmp_path / 'hub.parquet'}'").fetchall()
    got = con.sql(f"SELECT {columns}, payload FROM '{tmp_path / 'peer.parquet'}'").fetchall()
    assert len(got) == 200
    # payloads as JSON values: the key order and spacing of each library's writer differ
    assert sorted((*r[:5], json.loads(r[5])) for r in got) == sorted(
        (*r[:5], json.loads(r[5])) for r in hub
    )
