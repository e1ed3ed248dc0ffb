"""JSON, JSON lines, XLSX and XML decoders on hand-written edge cases."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from ingest.feeds.decode import POS, DecodeError, decode
from ingest.feeds.decode.model import ordered_union, unique_names


def rows(decoded) -> list[dict]:
    return [{k: v for k, v in r.items() if k != POS} for r in decoded.records.to_pylist()]


# --- JSON -------------------------------------------------------------------------


def test_json_records_under_a_path_keep_numbers_exactly_and_nest_as_json():
    doc = b'{"data": [{"id": "A", "lat": 7.10, "n": 3, "ok": true, "tags": {"k": [1, 2.5]}}], "has_more": false}'
    d = decode(doc, "json", {"records_path": "data"})
    assert rows(d) == [{"id": "A", "lat": "7.10", "n": "3", "ok": "true", "tags": '{"k":[1,2.5]}'}]


def test_json_items_that_are_not_objects_are_rejected_not_dropped():
    d = decode(
        b'{"reports": [{"uid": "1"}, "garbled line", 42]}', "json", {"records_path": "reports"}
    )
    assert rows(d) == [{"uid": "1"}]
    assert [(r.pos, r.raw, r.reason) for r in d.rejects] == [
        ("item=2", "garbled line", "not_an_object"),
        ("item=3", "42", "not_an_object"),
    ]


@pytest.mark.parametrize(
    ("data", "options", "match"),
    [
        (b"", {}, "empty"),
        (b'{"data": [', {}, "not a JSON document"),
        (b'{"items": []}', {"records_path": "data"}, "no 'data'"),
        (b'{"data": "x"}', {"records_path": "data"}, "not a list"),
    ],
)
def test_json_documents_that_cannot_be_read_are_errors(data, options, match):
    with pytest.raises(DecodeError, match=match):
        decode(data, "json", options)


def test_json_with_a_bom_and_an_empty_list():
    d = decode('\ufeff{"reports": []}'.encode(), "json", {"records_path": "reports"})
    assert d.records.num_rows == 0 and d.rejects == []


def test_jsonl_bad_lines_are_rejected_with_line_numbers():
    data = b'{"patrol_ref": "P1"}\n\n{"patrol_ref": "P2", "grid": "34NCJ"\n[1]\n{"patrol_ref": "P3", "extra": null}\n'
    d = decode(data, "jsonl")
    assert rows(d) == [{"patrol_ref": "P1", "extra": None}, {"patrol_ref": "P3", "extra": None}]
    assert d.records.column(POS).to_pylist() == ["line=1", "line=5"]
    assert [(r.pos, r.reason) for r in d.rejects] == [
        ("line=3", "bad_json"),
        ("line=4", "not_an_object"),
    ]


def test_jsonl_one_megabyte_value_and_formula_text():
    big = "é" * (1 << 20)
    data = (
        json.dumps({"id": "1", "remarks": big})
        + "\n"
        + json.dumps({"id": "2", "remarks": '=HYPERLINK("x")'})
    ).encode()
    assert [r["remarks"] for r in rows(decode(data, "jsonl"))] == [big, '=HYPERLINK("x")']


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.text(min_size=1, max_size=8).filter(lambda k: k != POS), json_values, max_size=5
        ),
        max_size=8,
    )
)
def test_jsonl_any_objects_decode_to_their_fields(objects):
    """Every key's value is kept, under the key itself unless SQL would confuse it with an
    earlier key (`id` and `ID` are one column to DuckDB: the second becomes `ID_2`)."""
    data = "\n".join(json.dumps(o) for o in objects).encode()
    d = decode(data, "jsonl")
    assert d.rejects == []
    assert d.records.num_rows == len(objects)
    keys = ordered_union(o.keys() for o in objects)
    column = dict(zip(keys, unique_names(keys, strip=False), strict=True))
    assert len({c.lower() for c in column.values()}) == len(column)
    for obj, row in zip(objects, d.records.to_pylist(), strict=True):
        for key, value in obj.items():
            text = row[column[key]]
            if value is None or isinstance(value, str):
                assert text == value
            elif isinstance(value, bool):
                assert text == str(value).lower()
            else:
                assert json.loads(text) == value


# --- XLSX -------------------------------------------------------------------------


def workbook(**sheets) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, build in sheets.items():
        build(book.create_sheet(name))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fap_sheet(ws):
    ws.append(["Distribution", None, None, "Location", None, "Notes"])
    ws.append(["Dist. ID", "Date", "Status", "District", "Site", None])
    ws.merge_cells("A1:C1")
    ws.merge_cells("D1:E1")
    ws.merge_cells("F1:F2")
    ws.append(["FAP-1", date(2026, 10, 3), "Completed", "Alpha", None, 12.0])
    ws.append([None] * 6)
    ws.append(["FAP-2", datetime(2026, 10, 4, 13, 5), "Cancelled", "Beta", "Site B", 2.5])
    # A text cell that looks like a formula (formula injection) stays text.
    ws["E3"].value = '=HYPERLINK("http://evil.example")'
    ws["E3"].data_type = "s"


def test_xlsx_merged_group_headers_become_group_slash_column():
    d = decode(workbook(**{"Oct 2026": fap_sheet}), "xlsx")
    assert d.records.column_names == [
        "Distribution / Dist. ID",
        "Distribution / Date",
        "Distribution / Status",
        "Location / District",
        "Location / Site",
        "Notes",
        POS,
    ]
    assert rows(d) == [
        {
            "Distribution / Dist. ID": "FAP-1",
            "Distribution / Date": "2026-10-03",
            "Distribution / Status": "Completed",
            "Location / District": "Alpha",
            "Location / Site": '=HYPERLINK("http://evil.example")',
            "Notes": "12",
        },
        {
            "Distribution / Dist. ID": "FAP-2",
            "Distribution / Date": "2026-10-04T13:05:00",
            "Distribution / Status": "Cancelled",
            "Location / District": "Beta",
            "Location / Site": "Site B",
            "Notes": "2.5",
        },
    ]
    assert d.records.column(POS).to_pylist() == ["sheet=Oct 2026/row=3", "sheet=Oct 2026/row=5"]


def test_xlsx_every_sheet_is_read_and_a_plain_header_is_one_row():
    def plain(ws):
        ws.append(["id", "place"])
        ws.append(["X1", "Ndélé"])

    def empty(ws):
        pass

    d = decode(workbook(**{"Oct 2026": fap_sheet, "Nov 2026": plain, "Blank": empty}), "xlsx")
    assert d.records.num_rows == 3
    assert rows(d)[2]["id"] == "X1" and rows(d)[2]["place"] == "Ndélé"


def test_xlsx_blank_rows_are_skipped_and_counted():
    d = decode(workbook(**{"Oct 2026": fap_sheet}), "xlsx")
    assert d.blank_rows == 1


def test_xlsx_hxl_hashtag_row_names_the_columns_as_in_csv():
    """A 3W workbook with a human header, then the HXL row: the hashtags name the
    columns (an untagged column keeps its human header); the HXL row is no record."""

    def three_w(ws):
        ws.append(["Who does what where, August 2025"])
        ws.append(["Organisation", "Cluster", "Admin 1", "Notes"])
        ws.append(["#org +name", "#sector", "#adm1+code", None])
        ws.append(["NRC", "Shelter", "ET04", "mobile team"])
        ws.append([None, None, None, None])
        ws.append(["IRC", "WASH", "ET01", None])

    d = decode(workbook(Sheet1=three_w), "xlsx")
    assert d.records.column_names == ["#org+name", "#sector", "#adm1+code", "Notes", POS]
    assert rows(d) == [
        {"#org+name": "NRC", "#sector": "Shelter", "#adm1+code": "ET04", "Notes": "mobile team"},
        {"#org+name": "IRC", "#sector": "WASH", "#adm1+code": "ET01", "Notes": None},
    ]
    assert d.records.column(POS).to_pylist() == ["sheet=Sheet1/row=4", "sheet=Sheet1/row=6"]
    assert d.blank_rows == 1


def test_xlsx_header_only_and_not_a_workbook():
    def header(ws):
        ws.append(["id", "date"])

    assert decode(workbook(S=header), "xlsx").records.num_rows == 0
    with pytest.raises(DecodeError, match="not a readable workbook"):
        decode(b"id,date\n1,2\n", "xlsx")


# --- XML --------------------------------------------------------------------------


def test_xml_records_attributes_nested_and_repeated_children():
    data = """<?xml version="1.0" encoding="ISO-8859-1"?>
<reports xmlns="urn:example">
  <report id="R1"><date>2026-10-01</date><place lat="7.1" lon="20.2">Ndélé</place><tag>a</tag><tag>b</tag></report>
  <report id="R2"><date/></report>
</reports>""".encode("latin-1")
    d = decode(data, "xml")
    assert rows(d) == [
        {
            "@id": "R1",
            "date": "2026-10-01",
            "place/@lat": "7.1",
            "place/@lon": "20.2",
            "place": "Ndélé",
            "tag": '["a", "b"]',
        },
        {
            "@id": "R2",
            "date": None,
            "place/@lat": None,
            "place/@lon": None,
            "place": None,
            "tag": None,
        },
    ]


def test_xml_record_tag_at_any_depth_and_malformed_xml():
    data = b"<feed><meta><n>2</n></meta><items><item><id>1</id></item><item><id>2</id></item></items></feed>"
    assert rows(decode(data, "xml", {"record_tag": "item"})) == [{"id": "1"}, {"id": "2"}]
    with pytest.raises(DecodeError, match="not well-formed"):
        decode(b"<feed><item>", "xml")


def test_xml_entity_expansion_bomb_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'.encode()
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + b"]><l><r>&i;</r></l>"
    )
    with pytest.raises(DecodeError):
        decode(bomb, "xml")


def test_unknown_format_is_an_error():
    with pytest.raises(DecodeError, match="unknown format"):
        decode(b"x", "parquet")
