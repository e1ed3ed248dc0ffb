"""Vectorised formatting of times and grid references, and deterministic file writers."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mgrs
import numpy as np
import pandas as pd

EN_MONTHS = np.array(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
)
FR_MONTHS = np.array(
    ["JAN", "FEV", "MAR", "AVR", "MAI", "JUN", "JUL", "AOU", "SEP", "OCT", "NOV", "DEC"]
)
HOUR = np.timedelta64(3600, "s")
# Fixed timestamp for archive members and workbook properties: reruns give identical bytes.
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Scenario:
    out: Path
    start: np.datetime64  # datetime64[s], midnight UTC of the first day
    days: int

    def inbox(self, feed_id: str) -> Path:
        folder = self.out / "inbox" / feed_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def day(self, index: int, period_days: int = 1) -> str:
        return str((self.start + np.timedelta64(index * period_days, "D")).astype("datetime64[D]"))


def strftime(times: np.ndarray, fmt: str, offset_hours: np.ndarray | float = 0) -> pd.Series:
    """Format UTC datetime64 values shifted by `offset_hours` (local clock)."""
    shifted = np.asarray(times, dtype="datetime64[s]") + (np.asarray(offset_hours) * 3600).astype(
        "int64"
    ).astype("timedelta64[s]")
    return pd.Series(pd.to_datetime(shifted).strftime(fmt), dtype=object)


def iso(times: np.ndarray, offset_hours: np.ndarray) -> pd.Series:
    """ISO 8601 with the agency's offset: +03:00 for local clocks, Z for UTC."""
    offset_hours = np.asarray(offset_hours)
    body = strftime(times, "%Y-%m-%dT%H:%M:%S", offset_hours)
    suffix = np.where(offset_hours == 3, "+03:00", "Z")
    return body + suffix


def dtg(times: np.ndarray, zone: np.ndarray, months: np.ndarray) -> pd.Series:
    """Military date-time group DDHHMM<zone>MONYY; zone C is UTC+3, Z is UTC."""
    zone = np.asarray(zone)
    offset = np.where(zone == "C", 3, 0)
    local = pd.to_datetime(
        np.asarray(times, dtype="datetime64[s]") + (offset * 3600).astype("timedelta64[s]")
    )
    return (
        pd.Series(local.strftime("%d%H%M"), dtype=object)
        + zone
        + months[local.month.to_numpy() - 1]
        + pd.Series(local.strftime("%y"), dtype=object)
    )


_MGRS = mgrs.MGRS()


def to_mgrs(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """MGRS references at 100 m precision; the library is called once per unique point."""
    pts = np.round(np.column_stack([lat, lon]), 3)
    uniq, inverse = np.unique(pts, axis=0, return_inverse=True)
    refs = np.array([_MGRS.toMGRS(a, b, MGRSPrecision=3) for a, b in uniq], dtype=object)
    return refs[inverse.reshape(-1)]


def public(df: pd.DataFrame) -> pd.DataFrame:
    """The columns an agency writes (internal ones start with '_')."""
    return df[[c for c in df.columns if not c.startswith("_")]]


# Rows per to_json call: the whole feed's JSON text at once, with its copies, was the
# simulator's peak memory.
JSON_CHUNK = 100_000


def _json_chunks(df: pd.DataFrame) -> Iterator[list[str]]:
    for start in range(0, len(df), JSON_CHUNK):
        text = public(df.iloc[start : start + JSON_CHUNK]).to_json(
            orient="records", lines=True, force_ascii=False, double_precision=6
        )
        # pandas escapes "/" as "\\/"; agencies' JSON does not (both decode the same).
        text = text.replace("\\/", "/")
        yield [line for line in text.split("\n") if line]


def json_lines(df: pd.DataFrame) -> list[str]:
    """One compact JSON object per row; NaN/None become null, numbers stay numbers."""
    return [line for lines in _json_chunks(df) for line in lines]


def write_json_lines(df: pd.DataFrame, path: Path) -> None:
    """`json_lines` as a file, written a chunk at a time: the lines of a whole 10M-record
    operation's feed, joined into one text and encoded, were the simulator's peak."""
    with path.open("w", encoding="utf-8") as out:
        for lines in _json_chunks(df):
            out.write("".join(line + "\n" for line in lines))


def records(df: pd.DataFrame) -> list[dict]:
    return [json.loads(line) for line in json_lines(df)]


# --- XLSX, written directly: openpyxl builds one object per cell, far too slow at scale.

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/>'
    '<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border>'
    '<left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def _esc(s: pd.Series) -> pd.Series:
    return s.str.replace("&", "&amp;").str.replace("<", "&lt;").str.replace(">", "&gt;")


def col_letter(i: int) -> str:
    return chr(ord("A") + i)  # the workbooks here have fewer than 27 columns


def _cells(values: pd.Series, column: str, rows: np.ndarray) -> pd.Series:
    """`<c>` elements for one column: numbers as numbers, text inline, blanks omitted."""
    ref = column + pd.Series(rows.astype(str), index=values.index)
    kinds = values.map(type)
    numeric = kinds.map(
        lambda t: issubclass(t, int | float | np.number) and not issubclass(t, bool)
    )
    blank = values.isna() | (values.astype(str) == "")
    text = _esc(values.astype(str))
    out = np.where(
        numeric,
        '<c r="' + ref + '"><v>' + text + "</v></c>",
        '<c r="' + ref + '" t="inlineStr"><is><t>' + text + "</t></is></c>",
    )
    return pd.Series(np.where(blank, "", out), index=values.index)


def xlsx_bytes(sheets: list[tuple[str, list[list[str]], list[str], pd.DataFrame]]) -> bytes:
    """A minimal, deterministic XLSX workbook.

    Each sheet is (name, header rows, merged ranges like "A1:E1", data frame); data
    rows follow the header rows.
    """
    buf = io.BytesIO()
    n = len(sheets)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:

        def put(name: str, text: str) -> None:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))

        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        put(
            "[Content_Types].xml",
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>{overrides}</Types>',
        )
        put(
            "_rels/.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        names = "".join(
            f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
            for i, (name, *_) in enumerate(sheets, start=1)
        )
        put(
            "xl/workbook.xml",
            f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{names}</sheets></workbook>',
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        put(
            "xl/_rels/workbook.xml.rels",
            f'{_HEAD}<Relationships xmlns="{_PKG}">{rels}<Relationship Id="rId{n + 1}" '
            f'Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        )
        put("xl/styles.xml", _STYLES)
        for i, (_, headers, merges, frame) in enumerate(sheets, start=1):
            parts = []
            for r, header in enumerate(headers, start=1):
                cells = "".join(
                    f'<c r="{col_letter(j)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for j, v in enumerate(header)
                    if v
                )
                parts.append(f'<row r="{r}">{cells}</row>')
            rows = np.arange(len(headers) + 1, len(headers) + 1 + len(frame))
            body = pd.Series("", index=frame.index, dtype=object)
            for j, name in enumerate(frame.columns):
                body = body + _cells(frame[name].astype(object), col_letter(j), rows)
            numbers = pd.Series(rows.astype(str), index=frame.index)
            parts.extend(('<row r="' + numbers + '">' + body + "</row>").tolist())
            merged = "".join(f'<mergeCell ref="{m}"/>' for m in merges)
            merge_xml = f'<mergeCells count="{len(merges)}">{merged}</mergeCells>' if merges else ""
            put(
                f"xl/worksheets/sheet{i}.xml",
                f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetData>{"".join(parts)}</sheetData>'
                f"{merge_xml}</worksheet>",
            )
    return buf.getvalue()
