"""Every decoder on what the simulator's agencies send: all records read, the agency's own
field names kept, only the deliberately broken lines rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.feeds.decode import decode
from ingest.feeds.pipeline import decode_options
from ingest.feeds.registry import load_registry
from ingest.lab.simulate import simulate

REPO = Path(__file__).resolve().parents[2]

# Fields each agency sends (docs/feeds.md), which the warehouse's staging models read.
EXPECTED_FIELDS = {
    "unmic.sitreps": {"report_id", "occurred_at", "incident_type", "lat", "lon", "classification"},
    "forcar.patrols": {"id_patrouille", "gdh_depart", "gdh_retour", "mgrs", "unite", "statut"},
    "ncbatt.patrols": {"patrol_ref", "start_dtg", "end_dtg", "grid", "unit", "task", "state"},
    "ocha.deliveries": {"#org", "#sector", "#adm2+code", "#date", "#reached", "#activity+id"},
    "fap.distributions": {"Distribution / Dist. ID", "Distribution / Date", "Location / District"},
    "moi.incidents": {"Date", "Time", "Type", "Place", "District", "Killed", "Status"},
    "cpn.incidents": {"uid", "date", "type", "lieu", "morts", "statut"},
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    manifest = simulate(root / "sim", seed=11, days=8)
    return root, manifest, {f.id: f for f in load_registry(REPO / "feeds.yaml", root).feeds}


def payloads(root: Path, feed) -> list[tuple[bytes, str]]:
    if feed.kind == "http_json":
        # The API serves these lines; as a file they are JSON lines.
        return [((root / "sim" / "api" / feed.id / "records.jsonl").read_bytes(), "jsonl")]
    files = sorted(Path(feed.location).iterdir())
    return [(f.read_bytes(), feed.format) for f in files]


@pytest.mark.parametrize("feed_id", sorted(EXPECTED_FIELDS))
def test_decoder_reads_every_record_the_agency_sent(sim, feed_id):
    root, manifest, feeds = sim
    feed = feeds[feed_id]
    read, columns = 0, set()
    for data, fmt in payloads(root, feed):
        options = {} if fmt == "jsonl" else decode_options(feed)
        decoded = decode(data, fmt, options)
        read += decoded.records.num_rows + len(decoded.rejects)
        columns |= set(decoded.records.column_names)
        for reject in decoded.rejects:
            assert reject.reason in ("bad_json", "not_an_object") and reject.raw
    assert read == manifest["feeds"][feed_id]["records"]
    assert EXPECTED_FIELDS[feed_id] <= columns, EXPECTED_FIELDS[feed_id] - columns


def test_moi_latin1_and_mid_stream_rename_are_read(sim):
    root, _, feeds = sim
    feed = feeds["moi.incidents"]
    seen_encodings, id_columns = set(), set()
    for data, fmt in payloads(root, feed):
        decoded = decode(data, fmt, decode_options(feed))
        seen_encodings.add(decoded.encoding)
        id_columns |= {"Incident No", "Incident Number"} & set(decoded.records.column_names)
    assert seen_encodings - {"utf-8"}, "the ministry's files are Latin-1"
    assert id_columns == {"Incident No", "Incident Number"}
