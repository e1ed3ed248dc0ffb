"""Country packs: the committed real packs are what the importer makes of the public
p-code lists (no hand edits drift from their sources), packs are checked when loaded,
and the feed contract's reference lists every field the code knows."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
import yaml

from ingest.feeds.registry import ENTITY_FIELDS, TIME_FIELDS
from ingest.warehouse.country_pack import (
    PackError,
    from_global_pcodes,
    load_pack,
    load_packs,
    write_pack,
)

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "fixtures" / "real"


@pytest.mark.parametrize(
    ("pack", "source", "iso3", "name"),
    [
        ("haiti", "pcodes_hti_adm1_adm2.csv", "HTI", "Haiti"),
        ("ethiopia", "pcodes_eth_adm1_adm2.csv", "ETH", "Ethiopia"),
    ],
)
def test_committed_real_packs_are_what_the_importer_makes(tmp_path, pack, source, iso3, name):
    alt = yaml.safe_load((REPO / "packs" / "sources" / f"{pack}-alt-names.yaml").read_text())
    tables = from_global_pcodes(
        (REAL / source).read_text(), iso3, name, {k: str(v) for k, v in alt.items()}
    )
    meta = yaml.safe_load((REPO / "packs" / pack / "pack.yaml").read_text())
    write_pack(tmp_path, meta, tables)
    for table in ("admin0", "admin1", "admin2"):
        assert filecmp.cmp(
            tmp_path / f"{table}.csv", REPO / "packs" / pack / f"{table}.csv", shallow=False
        ), f"packs/{pack}/{table}.csv differs from `peaceops pack import-pcodes`"
    loaded = load_pack(REPO / "packs" / pack)
    assert len(loaded.tables["admin1"]) >= 10 and len(loaded.tables["admin2"]) >= 90
    assert not loaded.has_boundaries


def test_packs_are_checked_when_loaded(tmp_path):
    carana = load_pack(REPO / "packs" / "carana")
    bad = tmp_path / "bad"
    write_pack(
        bad,
        {"name": "bad"},
        {**carana.tables, "admin2": [{**carana.tables["admin2"][0], "admin1_pcode": "XX99"}]},
    )
    with pytest.raises(
        PackError, match=r"admin2.csv row 2: admin1_pcode 'XX99' is not in the pack"
    ):
        load_pack(bad)
    dup = tmp_path / "dup"
    write_pack(dup, {"name": "dup"}, carana.tables)
    with pytest.raises(PackError, match="is in both"):
        load_packs([REPO / "packs" / "carana", dup])


def test_the_feed_contract_reference_lists_every_field():
    text = (REPO / "docs" / "feed-contract.md").read_text()
    fields = {f for entity in ENTITY_FIELDS.values() for f in entity} | set(TIME_FIELDS)
    missing = [f for f in sorted(fields) if f"| `{f}` |" not in text]
    assert not missing, f"docs/feed-contract.md lacks {missing}"
