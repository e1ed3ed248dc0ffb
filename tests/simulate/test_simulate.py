"""The scenario simulator: determinism, gazetteer, feed formats, manifest arithmetic."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from ingest.lab.simulate import FEEDS, default_start, formats, simulate
from ingest.lab.simulate.cli import command

DAYS = 10
START = "2026-10-01"  # fixed: the default start moves with the clock


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sim") / "sim"
    return out, simulate(out, seed=7, days=DAYS, start=START)


def test_same_seed_gives_identical_bytes(sim, tmp_path: Path) -> None:
    out, manifest = sim
    again = simulate(tmp_path / "a", seed=7, days=DAYS, start=START)
    assert again == manifest
    assert tree_hash(tmp_path / "a") == tree_hash(out)
    # A rerun over existing output wipes what it owns first: still identical.
    simulate(tmp_path / "a", seed=7, days=DAYS, start=START)
    assert tree_hash(tmp_path / "a") == tree_hash(out)
    other = simulate(tmp_path / "b", seed=8, days=DAYS, start=START)
    assert other != manifest


def test_gazetteer_sizes_and_places_inside_their_admin2(sim) -> None:
    out, _ = sim
    admin1 = pd.read_csv(out / "gazetteer" / "admin1.csv")
    admin2 = pd.read_csv(out / "gazetteer" / "admin2.csv")
    places = pd.read_csv(out / "gazetteer" / "places.csv", keep_default_na=False)
    assert list(admin1.columns) == ["admin1_pcode", "admin1_name", "admin0_pcode", "alt_names"]
    assert list(admin2.columns) == [
        "admin2_pcode", "admin2_name", "admin1_pcode", "alt_names", "wkt"
    ]  # fmt: skip
    assert list(places.columns) == [
        "place_id", "place_name", "alt_names", "latitude", "longitude", "admin2_pcode"
    ]  # fmt: skip
    assert len(admin1) >= 6 and len(admin2) >= 30 and len(places) >= 200
    assert places["place_name"].is_unique and set(admin2["admin1_pcode"]) <= set(
        admin1["admin1_pcode"]
    )
    assert places["place_name"].str.contains("[éèô]").any()
    polygons = dict(zip(admin2["admin2_pcode"], shapely.from_wkt(admin2["wkt"]), strict=True))
    union = shapely.union_all(list(polygons.values()))
    assert abs(union.area - sum(p.area for p in polygons.values())) < 1e-9  # no overlaps
    points = shapely.points(places["longitude"], places["latitude"])
    for point, code in zip(points, places["admin2_pcode"], strict=True):
        assert polygons[code].contains(point)


def test_manifest_arithmetic(sim) -> None:
    out, manifest = sim
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["seed"] == 7 and manifest["days"] == DAYS and manifest["start"] == START
    assert set(manifest["feeds"]) == set(FEEDS)
    for feed_id, c in manifest["feeds"].items():
        assert c["records"] > c["duplicates"] + c["quarantined"] > 0, feed_id
        assert c["duplicates"] > 0 and c["quarantined"] > 0, feed_id
        assert c["files"] >= 1


def test_unmic_and_ncbatt_lines(sim) -> None:
    out, manifest = sim
    lines = (out / "api" / "unmic.sitreps" / "records.jsonl").read_text().splitlines()
    assert len(lines) == manifest["feeds"]["unmic.sitreps"]["records"]
    recs = [json.loads(line) for line in lines]
    assert set(recs[0]) == {
        "report_id", "occurred_at", "reported_at", "incident_type", "fatalities", "summary",
        "location", "lat", "lon", "admin2", "classification", "status", "supersedes",
    }  # fmt: skip
    assert any(r["status"] == "retracted" for r in recs)
    assert any(r["supersedes"] for r in recs)
    files = sorted((out / "inbox" / "ncbatt.patrols").glob("*.jsonl"))
    broken = good = 0
    for f in files:
        for line in f.read_text().splitlines():
            try:
                rec = json.loads(line)
                good += 1
                assert {"patrol_ref", "start_dtg", "grid", "state", "amends"} <= set(rec)
            except json.JSONDecodeError:
                broken += 1
    assert good + broken == manifest["feeds"]["ncbatt.patrols"]["records"]
    assert broken >= 1


def test_csv_feeds(sim) -> None:
    out, manifest = sim
    forcar = sorted((out / "inbox" / "forcar.patrols").glob("*.csv"))
    assert any(f.read_bytes().startswith(b"\xef\xbb\xbf") for f in forcar)
    rows = pd.concat(pd.read_csv(f, sep=";", encoding="utf-8-sig", dtype=str) for f in forcar)
    assert {"id_patrouille", "gdh_depart", "mgrs", "statut", "remplace"} <= set(rows.columns)
    assert len(rows) == manifest["feeds"]["forcar.patrols"]["records"]

    moi = sorted((out / "inbox" / "moi.incidents").glob("*.csv"))
    headers = []
    n = 0
    for f in moi:
        data = f.read_bytes()
        if any(b > 127 for b in data):
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
        frame = pd.read_csv(io.BytesIO(data), encoding="latin-1", dtype=str)
        headers.append(frame.columns[0])
        n += len(frame)
    assert n == manifest["feeds"]["moi.incidents"]["records"]
    assert headers[0] == "Incident No" and headers[-1] == "Incident Number"

    ocha = sorted((out / "inbox" / "ocha.deliveries").glob("*.csv"))
    first = list(csv.reader(io.StringIO(ocha[0].read_text("utf-8"))))
    assert first[1][0] == "#org" and "#activity+id+replaces" in first[1] and "" in first[1]
    n = sum(len(list(csv.reader(io.StringIO(f.read_text("utf-8"))))) - 2 for f in ocha)
    assert n == manifest["feeds"]["ocha.deliveries"]["records"]


def test_xlsx_and_cpn(sim) -> None:
    out, manifest = sim
    n = 0
    for f in sorted((out / "inbox" / "fap.distributions").glob("*.xlsx")):
        wb = openpyxl.load_workbook(f)
        for ws in wb:
            assert ws.title.endswith("2026")
            assert [str(r) for r in sorted(ws.merged_cells.ranges, key=str)] == [
                "A1:E1", "F1:G1", "H1:J1"
            ]  # fmt: skip
            assert [c.value for c in ws[2]][:2] == ["Dist. ID", "Date"]
            n += ws.max_row - 2
    assert n == manifest["feeds"]["fap.distributions"]["records"]
    n = 0
    for f in sorted((out / "inbox" / "cpn.incidents").glob("*.json")):
        doc = json.loads(f.read_text("utf-8"))
        assert doc["network"] == "CPN"
        n += len(doc["reports"])
        for r in doc["reports"]:
            assert {"uid", "date", "type", "lieu", "morts", "statut", "corrige"} <= set(r)
    assert n == manifest["feeds"]["cpn.incidents"]["records"]


def test_same_incident_reported_by_several_agencies(sim) -> None:
    out, _ = sim
    links = pd.read_parquet(out / "truth" / "report_links.parquet")
    assert list(links.columns) == ["feed_id", "record_id", "truth_kind", "truth_id", "report_kind"]
    assert set(links["report_kind"]) == {"report", "correction", "retraction"}
    inc = links[links["truth_kind"] == "incident"]
    agencies = inc.groupby("truth_id")["feed_id"].nunique()
    assert (agencies >= 2).sum() > 10 and (agencies == 3).any()
    truth = pd.read_parquet(out / "truth" / "incidents.parquet")
    assert set(inc["truth_id"]) <= set(truth["incident_id"])
    for name in ("deliveries", "patrols"):
        assert len(pd.read_parquet(out / "truth" / f"{name}.parquet")) > 0


def test_scale_and_agencies(tmp_path: Path) -> None:
    small = simulate(tmp_path / "s", seed=3, days=5, agencies=2)
    big = simulate(tmp_path / "b", seed=3, days=5, scale=4.0, agencies=2)
    assert list(small["feeds"]) == ["unmic.sitreps", "forcar.patrols"]
    for feed_id in small["feeds"]:
        ratio = big["feeds"][feed_id]["records"] / small["feeds"][feed_id]["records"]
        assert 3.0 < ratio < 5.2, (feed_id, ratio)


def test_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(command, ["--help"])
    assert result.exit_code == 0 and "--agencies" in result.output and "Carana" in result.output
    result = runner.invoke(command, ["--days", "2", "--agencies", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "records/s" in result.output and "ncbatt.patrols" in result.output
    assert set(json.loads((tmp_path / "manifest.json").read_text())["feeds"]) == {
        "unmic.sitreps", "forcar.patrols", "ncbatt.patrols"
    }  # fmt: skip


def test_json_lines_written_in_chunks_equal_the_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "JSON_CHUNK", 3)
    df = pd.DataFrame(
        {"id": [f"R/{i}" for i in range(7)], "n": [i if i % 2 else None for i in range(7)]}
    ).assign(_internal=1)
    path = tmp_path / "records.jsonl"
    formats.write_json_lines(df, path)
    text = path.read_text("utf-8")
    assert text.endswith("}\n") and "\n\n" not in text
    assert text.splitlines() == formats.json_lines(df)
    assert [json.loads(line) for line in text.splitlines()] == [
        {"id": f"R/{i}", "n": i if i % 2 else None} for i in range(7)
    ]


@pytest.mark.parametrize(
    ("now", "start"),
    [
        # before noon the period ends at yesterday's midnight: the last evening's patrols
        # may still be out
        (datetime(2026, 12, 3, 4, 0, tzinfo=UTC), "2026-11-02"),
        (datetime(2026, 12, 3, 15, 0, tzinfo=UTC), "2026-11-03"),
    ],
)
def test_default_period_ends_at_the_last_settled_midnight(now: datetime, start: str) -> None:
    assert default_start(30, now) == start


def test_default_period_reports_nothing_in_the_future(tmp_path: Path) -> None:
    """Without --start, every time the simulation holds (a patrol's end, shifted by a
    correction, included) lies in the past: the gate rejects future times."""
    before = default_start(3)
    manifest = simulate(tmp_path, seed=7, days=3)
    # the default moves on at noon UTC: a run straddling it may take either day
    assert manifest["start"] in {before, default_start(3)}
    latest = max(
        pd.read_parquet(tmp_path / "truth" / f"{kind}.parquet")[column].max()
        for kind, column in (
            ("incidents", "occurred_at"),
            ("deliveries", "delivered_at"),
            ("patrols", "ended_at"),
        )
    )
    # corrections move a patrol's end by up to half an hour
    assert latest + timedelta(hours=1) < datetime.now(UTC)
