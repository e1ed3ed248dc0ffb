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
    add_population,
    cod_population,
    from_global_pcodes,
    load_pack,
    load_packs,
    populations,
    write_pack,
)

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "tests" / "fixtures" / "real"


@pytest.mark.parametrize(
    ("pack", "source", "iso3", "name", "population"),
    [
        ("haiti", "pcodes_hti_adm1_adm2.csv", "HTI", "Haiti", None),
        ("ethiopia", "pcodes_eth_adm1_adm2.csv", "ETH", "Ethiopia", "eth_admpop_adm1_2022_v2.csv"),
    ],
)
def test_committed_real_packs_are_what_the_importer_makes(
    tmp_path, pack, source, iso3, name, population
):
    alt = yaml.safe_load((REPO / "packs" / "sources" / f"{pack}-alt-names.yaml").read_text())
    tables = from_global_pcodes(
        (REAL / source).read_text(), iso3, name, {k: str(v) for k, v in alt.items()}
    )
    if population:
        add_population(tables, cod_population((REAL / population).read_text()))
    meta = yaml.safe_load((REPO / "packs" / pack / "pack.yaml").read_text())
    write_pack(tmp_path, meta, tables)
    for table in ("admin0", "admin1", "admin2"):
        assert filecmp.cmp(
            tmp_path / f"{table}.csv", REPO / "packs" / pack / f"{table}.csv", shallow=False
        ), f"packs/{pack}/{table}.csv differs from `peaceops pack import-pcodes`"
    loaded = load_pack(REPO / "packs" / pack)
    assert len(loaded.tables["admin1"]) >= 10 and len(loaded.tables["admin2"]) >= 90
    assert not loaded.has_boundaries


def test_ethiopia_population_is_ocha_cod_ps_2022():
    """Every region of the Ethiopia pack has the COD-PS 2022 total (T_TL), by p-code;
    the districts have none (the table is admin1)."""
    pack = load_pack(REPO / "packs" / "ethiopia")
    people = populations([pack], 1)
    assert len(people) == len(pack.tables["admin1"]) == 13
    assert people["ET01"] == 5_649_587 and people["ET04"] == 39_075_002  # Tigray, Oromia
    assert sum(people.values()) == 102_536_651
    assert populations([pack], 2) == {}
    assert "cod-ps-eth" in pack.population_source
    assert populations([load_pack(REPO / "packs" / "carana")], 1) == {}


def test_cod_population_reads_the_total_by_pcode():
    text = 'admin1Name_en,admin1Pcode,T_TL,M_TL\nA,XX01,1200,600\nB,XX02,"3,400",1700\n'
    assert cod_population(text) == {"XX01": 1200, "XX02": 3400}
    hxl = "ADM2_PCODE,T_TL\n#adm2+code,#population\nXX0101,77\n"
    assert cod_population(hxl) == {"XX0101": 77}
    with pytest.raises(PackError, match="not a COD-PS table"):
        cod_population("Location,Population\nX,1\n")
    with pytest.raises(PackError, match="row 2: T_TL 'n/a'"):
        cod_population("admin1Pcode,T_TL\nXX01,n/a\n")


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
    people = tmp_path / "people"
    write_pack(
        people,
        {"name": "people"},
        {
            **carana.tables,
            "admin1": [
                {**carana.tables["admin1"][0], "population": "many"},
                *carana.tables["admin1"][1:],
            ],
        },
    )
    with pytest.raises(PackError, match=r"admin1.csv row 2: population 'many' is not a whole"):
        load_pack(people)
    dup = tmp_path / "dup"
    write_pack(dup, {"name": "dup"}, carana.tables)
    with pytest.raises(PackError, match="is in both"):
        load_packs([REPO / "packs" / "carana", dup])


def test_the_feed_contract_reference_lists_every_field():
    text = (REPO / "docs" / "feed-contract.md").read_text()
    fields = {f for entity in ENTITY_FIELDS.values() for f in entity} | set(TIME_FIELDS)
    missing = [f for f in sorted(fields) if f"| `{f}` |" not in text]
    assert not missing, f"docs/feed-contract.md lacks {missing}"
