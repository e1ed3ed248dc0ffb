"""The CSV decoder on hand-written edge cases and on any table (hypothesis)."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.feeds.decode import POS, decode
from ingest.feeds.decode.text import SAMPLE, detect_encoding


def rows(decoded) -> list[dict]:
    return [{k: v for k, v in r.items() if k != POS} for r in decoded.records.to_pylist()]


def test_empty_file_has_no_records_and_no_rejects():
    for data in (b"", b"\n\n", "\ufeff".encode()):
        d = decode(data, "csv")
        assert d.records.num_rows == 0 and d.rejects == []


def test_header_only_keeps_the_columns():
    d = decode(b"id,place,date\n", "csv")
    assert d.records.num_rows == 0
    assert d.records.column_names == ["id", "place", "date", POS]


def test_latin1_is_detected_and_read():
    text = "Incident No,Place\nMOI-1,Abéché\nMOI-2,Ndélé\n"
    d = decode(text.encode("latin-1"), "csv")
    assert d.encoding in ("cp1252", "latin_1", "iso8859_15")
    assert [r["Place"] for r in rows(d)] == ["Abéché", "Ndélé"]


def test_utf8_with_bom_does_not_leak_into_the_first_column_name():
    d = decode("\ufeffid;lieu\n1;Bangui\n".encode(), "csv")
    assert d.encoding == "utf-8-sig"
    assert rows(d) == [{"id": "1", "lieu": "Bangui"}]


def test_utf8_is_checked_across_slice_boundaries():
    """The UTF-8 check reads the payload a slice at a time: a character split by a
    slice boundary is still UTF-8, and a bad byte in a later slice is still found."""
    pad = b"a" * (SAMPLE - 4)  # "é" then starts on the last byte of the first slice
    assert detect_encoding(b"id\n" + pad + "é".encode() + b"\n") == "utf-8"
    assert detect_encoding(b"id\n" + pad * 2 + b"\xe9\n") != "utf-8"


def test_declared_encoding_wins_over_detection():
    d = decode("a\nÀ\n".encode("utf-16"), "csv", {"encoding": "utf-16"})
    assert rows(d) == [{"a": "À"}]
    # a DOS export (cp850): the detector takes it for the Windows code page (é reads as a low quote)
    data = "id,lieu\n1,Bouaké\n2,Séguéla\n".encode("cp850")
    d = decode(data, "csv", {"encoding": "cp850"})
    assert [r["lieu"] for r in rows(d)] == ["Bouaké", "Séguéla"]


def test_ragged_rows_are_rejected_with_their_text_and_the_rest_is_kept():
    d = decode(b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n", "csv")
    assert [r["a"] for r in rows(d)] == ["1", "10"]
    assert [(r.raw, r.reason) for r in d.rejects] == [
        ("4,5", "ragged_row"),
        ("6,7,8,9", "ragged_row"),
    ]
    assert "2 fields where the header has 3" in d.rejects[0].message


def test_embedded_newlines_quotes_and_delimiters_inside_cells():
    data = b'id;note\n1;"line one\nline two; with ""quotes"""\n2;plain\n'
    d = decode(data, "csv")
    assert rows(d) == [
        {"id": "1", "note": 'line one\nline two; with "quotes"'},
        {"id": "2", "note": "plain"},
    ]


def test_a_one_megabyte_cell_survives():
    big = "x" * (1 << 20) + "é"
    d = decode(f"id,report\n1,{big}\n2,small\n".encode(), "csv")
    assert rows(d)[0]["report"] == big and rows(d)[1]["report"] == "small"


def test_formula_injection_strings_stay_inert_text():
    data = b'id,link\n1,"=HYPERLINK(""http://evil.example"",""click"")"\n2,+cmd|\' /C calc\'!A0\n'
    d = decode(data, "csv")
    assert [r["link"] for r in rows(d)] == [
        '=HYPERLINK("http://evil.example","click")',
        "+cmd|' /C calc'!A0",
    ]


def test_values_are_text_as_sent_and_empty_cells_are_missing():
    d = decode(b"id,n,when\n007,1.50,031420ZOCT26\n008,,\n", "csv")
    assert rows(d) == [
        {"id": "007", "n": "1.50", "when": "031420ZOCT26"},
        {"id": "008", "n": None, "when": None},
    ]


def test_blank_and_repeated_header_names_get_unique_names():
    d = decode(b"id,,id\n1,2,3\n", "csv")
    assert d.records.column_names == ["id", "column_2", "id_2", POS]


def test_delimiter_is_sniffed_from_the_header():
    assert rows(decode(b"a\tb\n1\t2\n", "csv")) == [{"a": "1", "b": "2"}]
    assert rows(decode(b"a|b\n1|2\n", "csv")) == [{"a": "1", "b": "2"}]


def test_positions_name_each_record():
    d = decode(b"a\n1\n2\n", "csv")
    assert d.records.column(POS).to_pylist() == ["row=1", "row=2"]


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda width: st.tuples(
            st.lists(
                st.from_regex(r"[A-Za-z][A-Za-z0-9 _/]{0,12}", fullmatch=True),
                min_size=width,
                max_size=width,
                unique=True,
            ),
            st.lists(st.lists(cells, min_size=width, max_size=width), max_size=20),
        )
    ),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_any_table_written_as_csv_decodes_back(table, delimiter, encoding):
    header, body = table
    header = [h.strip() or "h" for h in header]
    if len({h.lower() for h in header}) < len(header):
        return  # names SQL would confuse are renamed (test_model: unique_names)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    d = decode(out.getvalue().encode(encoding), "csv", {"delimiter": delimiter})
    assert d.rejects == []
    expected = [{h: (v or None) for h, v in zip(header, r, strict=True)} for r in body]
    # a row without any value is no record: skipped and counted
    assert rows(d) == [r for r in expected if any(r.values())]
    assert d.blank_rows == sum(not any(r.values()) for r in expected)
