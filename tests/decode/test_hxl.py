"""The HXL decoder: hashtag-row detection on any valid HXL file, checked against libhxl."""

from __future__ import annotations

import csv
import io

import hxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.feeds.decode import POS, DecodeError, decode


def rows(decoded) -> list[dict]:
    return [{k: v for k, v in r.items() if k != POS} for r in decoded.records.to_pylist()]


def libhxl(data: bytes) -> tuple[list[str], list[list[str]]]:
    source = hxl.data(hxl.input.make_input(io.BytesIO(data), hxl.InputOptions(allow_local=True)))
    return [c.display_tag for c in source.columns], [list(r.values) for r in source]


def test_human_headers_attributes_and_untagged_columns():
    data = (
        b"3W Carana - October,,,,\n"
        b"Organisation,Cluster,People reached,,Comments\n"
        b",,Women,Men,\n"
        b"#org,#sector +cluster,#reached+f,#reached +m,\n"
        b"ACF,WASH,10,12,on time\n"
        b"MSF,Health,,3,\n"
    )
    d = decode(data, "hxl")
    assert d.records.column_names == [
        "#org",
        "#sector+cluster",
        "#reached+f",
        "#reached+m",
        "Comments",
        POS,
    ]
    assert rows(d)[1] == {
        "#org": "MSF",
        "#sector+cluster": "Health",
        "#reached+f": None,
        "#reached+m": "3",
        "Comments": None,
    }
    assert d.records.column(POS).to_pylist() == ["row=5", "row=6"]


def test_hashtag_row_first_with_no_human_header():
    d = decode(b"#adm1+code,#date\nCR01,03/10/2026\n", "hxl")
    assert rows(d) == [{"#adm1+code": "CR01", "#date": "03/10/2026"}]


def test_a_human_header_with_a_hashtag_like_title_is_not_the_hashtag_row():
    """The hashtag row has only hashtags: a title like `#Sites` among plain ones does not
    make a human header the hashtag row (libhxl agrees)."""
    data = b"Province,#Sites,Date\n#adm1+name,#loc+count,#date\nOuham,3,2026-10-01\n"
    d = decode(data, "hxl")
    assert rows(d) == [{"#adm1+name": "Ouham", "#loc+count": "3", "#date": "2026-10-01"}]
    assert libhxl(data) == (["#adm1+name", "#loc+count", "#date"], [["Ouham", "3", "2026-10-01"]])


def test_a_file_without_a_hashtag_row_is_an_error_not_a_guess():
    with pytest.raises(DecodeError, match="no HXL hashtag row"):
        decode(b"org,sector\nACF,WASH\n", "hxl")
    with pytest.raises(DecodeError):
        decode(b"", "hxl")


def test_a_row_with_a_value_beyond_the_tagged_columns_is_rejected():
    d = decode(b"#org,#sector\nA,WASH\nB,Health,surprise\nC,Food,,\n", "hxl")
    assert [r["#org"] for r in rows(d)] == ["A", "C"]
    assert [(r.pos, r.reason) for r in d.rejects] == [("row=3", "ragged_row")]


def test_latin1_hxl_is_read():
    d = decode("#org,#loc+name\nCroix,Ndélé\n".encode("latin-1"), "hxl")
    assert rows(d) == [{"#org": "Croix", "#loc+name": "Ndélé"}]


names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
hashtags = st.builds(
    lambda tag, attrs, space: "#" + tag + "".join((" +" if space else "+") + a for a in attrs),
    names,
    st.lists(names, max_size=3),
    st.booleans(),
)
plain = st.text(alphabet="abcdefgh XYZ-é0123456789", max_size=10).filter(
    lambda s: not s.strip().startswith("#")
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(hashtags, st.just("")), min_size=1, max_size=6).filter(lambda t: any(t)),
    st.lists(st.lists(plain, min_size=1, max_size=6), max_size=3),
    st.lists(st.lists(plain, min_size=1, max_size=6), max_size=10),
)
def test_agrees_with_libhxl_on_tags_and_values(tags, human_rows, body):
    width = len(tags)
    # Human header rows that happen to look like hashtag rows are not human rows.
    human_rows = [r[:width] for r in human_rows if any(c.strip() for c in r)]
    body = [(r + [""] * width)[:width] for r in body]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([*human_rows, tags, *body])
    data = out.getvalue().encode()

    d = decode(data, "hxl")
    their_tags, their_rows = libhxl(data)
    tagged = [i for i, t in enumerate(their_tags) if t]
    our_names = d.records.column_names[:-1]
    assert [our_names[i] for i in tagged] == [
        t.replace(" ", "") for t in (their_tags[i] for i in tagged)
    ] or len(set(their_tags[i] for i in tagged)) < len(tagged)
    ours = [[r[n] or "" for n in our_names] for r in d.records.to_pylist()]
    theirs = [[(r + [""] * width)[i] or "" for i in range(width)] for r in their_rows]
    theirs = [r for r in theirs if any(c.strip() for c in r)]
    assert [[r[i] for i in tagged] for r in ours] == [[r[i] for i in tagged] for r in theirs]
