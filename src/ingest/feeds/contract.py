"""A feed's contract compiled to DuckDB SQL: the one place that reads a record's fields.

The same expressions serve two readers of a record:
- ingest (`ingest.feeds.envelope`) reads the decoded batch's columns to compute the
  envelope: record id, occurred_at, releasability, retraction;
- the warehouse's staging (`dbt_project/macros/stage.sql`) reads the stored payload
  (JSON) to compute every vocabulary field of the feed's entity.

`Columns` and `Payload` say how a column is read in each; everything else (alternatives,
composite keys, time formats and precisions, defaults, classification) is written once
here. Pure functions: SQL text in, SQL text out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ingest.feeds.registry import (
    ENTITY_FIELDS,
    ENTITY_TIME_FIELDS,
    Constant,
    Feed,
    FileNameDate,
    JsonPath,
    RecordKey,
    Registry,
    Source,
    TimeSpec,
    default_precision,
    pattern_precision,
)
from ingest.releasability import RELEASABILITY
from ingest.sql import ident, literal

EN_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
FR_MONTHS = ["JAN", "FEV", "MAR", "AVR", "MAI", "JUN", "JUL", "AOU", "SEP", "OCT", "NOV", "DEC"]
# Military time-zone letters: A..M (no J) are UTC+1..+12, N..Y are UTC-1..-12, Z is UTC.
EAST_ZONES = "ABCDEFGHIKLM"
WEST_ZONES = "NOPQRSTUVWXY"
# A parsed year outside this range is a misread (`%Y` takes "14" as the year 14).
YEARS = (1900, 2200)
NULL = "CAST(NULL AS VARCHAR)"


def sql_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


class Columns:
    """Read a decoded batch: one SQL column per source column; absent ones are NULL."""

    def __init__(self, names: Sequence[str]):
        self.names = set(names)

    def has(self, name: str) -> bool:
        return name in self.names

    def raw(self, name: str) -> str | None:
        return ident(name) if name in self.names else None


# The column a feed's staging branch reads its payload's fields from (Payload.extraction).
PAYLOAD_FIELDS = "payload_fields"


class Payload:
    """Read the stored payload (JSON text in column `payload`). Every field asked for is
    an item of one list, `extraction()`, which a reader adds to the rows as column
    PAYLOAD_FIELDS: the JSON is parsed once per row, not once per field (3.8 -> 1.2 s
    for one feed's 1.9M records with twelve reads)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def has(self, name: str) -> bool:
        return True

    def raw(self, name: str) -> str | None:
        # the name as a key, even one that looks like a JSON path or pointer
        path = "$." + json_key(name)
        if path not in self.paths:
            self.paths.append(path)
        return f"{PAYLOAD_FIELDS}[{self.paths.index(path) + 1}]"

    def extraction(self) -> str:
        """The SQL of column PAYLOAD_FIELDS (`<list> AS payload_fields`): the list the
        fields asked for so far are items of."""
        paths = ", ".join(literal(p) for p in self.paths)
        values = f"json_extract_string(payload, [{paths}])" if paths else "CAST([] AS VARCHAR[])"
        return f"{values} AS {PAYLOAD_FIELDS}"


def json_key(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


Reader = Columns | Payload


def value(reader: Reader, source: Source) -> str | None:
    """One source's value as trimmed text, NULL when blank; None when the column is absent."""
    if isinstance(source, Constant):
        return literal(source.value)
    if isinstance(source, JsonPath):
        column = reader.raw(source.column)
        if column is None:
            return None
        return f"nullif(trim({json_value(column, source.path)}), '')"
    column = reader.raw(source)
    return None if column is None else f"nullif(trim({column}), '')"


def json_value(column: str, path: str) -> str:
    """The value at `path` in a column of JSON text. A value that is not a JSON list or
    object is a list of itself (a repeated XML element seen once is a plain value): it
    answers `$` and `$[0]`; anything else has nothing at the path, never an error."""
    itself = f"CASE WHEN {literal(path)} IN ('$', '$[0]') THEN {column} END"
    return (
        f"(CASE WHEN json_valid({column}) AND left(ltrim({column}), 1) IN ('[', '{{') "
        f"THEN json_extract_string({column}, {literal(path)}) ELSE {itself} END)"
    )


def first_present(reader: Reader, sources: Sequence[Source]) -> str:
    """The first non-blank value among the alternative sources."""
    present = [v for v in (value(reader, s) for s in sources) if v is not None]
    if not present:
        return NULL
    return present[0] if len(present) == 1 else f"coalesce({', '.join(present)})"


# -- times ------------------------------------------------------------------------


def time_text(reader: Reader, spec: TimeSpec) -> str:
    """The time's text: its fields joined with a space (blank ones skipped)."""
    present = [v for v in (value(reader, f) for f in spec.fields) if v is not None]
    if not present:
        return NULL
    return present[0] if len(present) == 1 else f"nullif(concat_ws(' ', {', '.join(present)}), '')"


def in_years(ts: str) -> str:
    return f"(CASE WHEN year({ts}) BETWEEN {YEARS[0]} AND {YEARS[1]} THEN {ts} END)"


def dtg_parts(text: str) -> tuple[str, str]:
    """(local timestamp, zone offset hours) SQL of a DTG DDHHMM<zone>MONYY."""
    g = f"upper(strip_accents(replace({text}, ' ', '')))"
    pattern = literal(r"^(\d{2})(\d{2})(\d{2})([A-Z])([A-Z]{3})(\d{2})$")

    def part(i: int) -> str:
        return f"regexp_extract({g}, {pattern}, {i})"

    month = (
        f"coalesce(nullif(list_position({sql_list(EN_MONTHS)}, {part(5)}), 0), "
        f"nullif(list_position({sql_list(FR_MONTHS)}, {part(5)}), 0))"
    )
    offset = (
        f"CASE WHEN {part(4)} = 'Z' THEN 0 "
        f"WHEN strpos('{EAST_ZONES}', {part(4)}) > 0 THEN strpos('{EAST_ZONES}', {part(4)}) "
        f"WHEN strpos('{WEST_ZONES}', {part(4)}) > 0 THEN -strpos('{WEST_ZONES}', {part(4)}) END"
    )
    local = (
        f"try_strptime(printf('20%s-%02d-%s %s:%s', {part(6)}, {month}, {part(1)}, "
        f"{part(2)}, {part(3)}), '%Y-%m-%d %H:%M')"
    )
    return local, offset


def parse_time(text: str, spec: TimeSpec) -> str:
    """SQL of the time's text as a UTC TIMESTAMPTZ, NULL when unreadable."""
    if spec.format == "dtg":
        local, offset = dtg_parts(text)
        return f"timezone('UTC', ({local} - to_hours({offset})))"
    if spec.format == "iso":
        # The session runs in UTC, so an ISO time without an offset is taken as UTC; a
        # year-month or a year alone is the start of that month or year.
        partial = f"try_strptime({text}, ['%Y-%m', '%Y'])"
        parsed = f"coalesce(try_cast({text} AS TIMESTAMPTZ), timezone('UTC', {partial}))"
        return in_years(parsed)
    parsed = f"try_strptime({text}, {sql_list(spec.patterns)})"
    # `local` times without a zone of their own were given the mission's (registry)
    return in_years(f"timezone({literal(spec.tz or 'UTC')}, {parsed})")


def precision(text: str, spec: TimeSpec) -> str:
    """SQL of the precision (minute, day, month, year) the time's text carries."""
    if spec.format == "dtg":
        return f"CASE WHEN {text} IS NOT NULL THEN 'minute' END"
    if spec.format == "iso":
        return (
            f"CASE WHEN regexp_matches({text}, '\\d{{1,2}}:\\d{{2}}') THEN 'minute' "
            f"WHEN regexp_matches({text}, '^\\s*\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}') THEN 'day' "
            f"WHEN regexp_matches({text}, '^\\s*\\d{{4}}-\\d{{1,2}}\\s*$') THEN 'month' "
            f"WHEN regexp_matches({text}, '^\\s*\\d{{4}}\\s*$') THEN 'year' END"
        )
    # The first pattern that reads the text decides, as in try_strptime's list.
    cases = " ".join(
        f"WHEN try_strptime({text}, {literal(p)}) IS NOT NULL THEN '{pattern_precision(p)}'"
        for p in spec.patterns
    )
    return f"CASE {cases} END"


def default_time(spec: TimeSpec, file_name: str | None) -> datetime | None:
    """The time of a record with no time text: the spec's default, else the date in the
    payload's file name; None when neither applies."""
    if spec.default is not None:
        return partial_date(spec.default)
    if spec.from_file_name is not None and file_name is not None:
        return file_name_date(spec.from_file_name, file_name)
    return None


def partial_date(text: str) -> datetime:
    default_precision(text)
    parts = [int(p) for p in text.strip().split("-")] + [1, 1]
    return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)


def file_name_date(spec: FileNameDate, file_name: str) -> datetime | None:
    m = re.search(spec.pattern, file_name)
    if not m:
        return None
    groups = m.groupdict()
    try:
        return datetime(
            int(groups["year"]),
            int(groups.get("month") or 1),
            int(groups.get("day") or 1),
            tzinfo=UTC,
        )
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class TimeSql:
    text: str  # the time as sent
    at: str  # TIMESTAMPTZ, NULL when unreadable
    precision: str  # 'minute' | 'day' | 'month' | 'year'


def time_sql(reader: Reader, spec: TimeSpec, default: datetime | None = None) -> TimeSql:
    """A time field: its text, its UTC timestamp and its precision. With a default (a
    record without time text: the default or the file's date), blank text takes it."""
    text = time_text(reader, spec)
    at = parse_time(text, spec)
    prec = precision(text, spec)
    if spec.default_precision is not None:
        fallback = "NULL" if default is None else f"TIMESTAMPTZ {literal(default.isoformat())}"
        at = f"(CASE WHEN {text} IS NULL THEN {fallback} ELSE {at} END)"
        prec = f"(CASE WHEN {text} IS NULL THEN '{spec.default_precision}' ELSE {prec} END)"
    return TimeSql(text, at, prec)


# -- the envelope's own fields --------------------------------------------------------


def record_id(reader: Reader, feed: Feed, content: str) -> str:
    """The record's id: a column (or alternatives), several joined, or its content hash."""
    key = feed.mapping.record_id
    if key == "content":
        return f"md5({content})"
    if isinstance(key, RecordKey):
        parts = [first_present(reader, [c]) for c in key.all]
        joined = "concat_ws('|', " + ", ".join(f"coalesce({p}, '')" for p in parts) + ")"
        return f"CASE WHEN coalesce({', '.join(parts)}) IS NOT NULL THEN {joined} END"
    return first_present(reader, key)


def releasability(reader: Reader, feed: Feed) -> str:
    """The record's level. Without a classification field: the feed's level. With one:
    the marking read through the feed's terms; a missing column, a blank or an unknown
    marking is `restricted` (need to know fails closed)."""
    spec = feed.mapping.classification
    if spec is None:
        return literal(feed.releasability)
    marking = value(reader, spec.field)
    if marking is None:
        return "'restricted'"
    key = f"lower({marking})"
    terms = {k.strip().lower(): v for k, v in spec.values.items()}
    cases = " ".join(f"WHEN {key} = {literal(k)} THEN {literal(v)}" for k, v in terms.items())
    return (
        f"CASE {cases} WHEN {key} IN ({', '.join(literal(r) for r in RELEASABILITY)}) THEN {key} "
        f"ELSE 'restricted' END"
    )


def is_retraction(reader: Reader, feed: Feed) -> str:
    spec = feed.mapping.retraction
    if spec is None:
        return "false"
    marked = value(reader, spec.field)
    if marked is None:
        return "false"
    values = sql_list([v.lower() for v in spec.values])
    return f"coalesce(list_contains({values}, lower({marked})), false)"


# -- staging: every field of an entity, from the payload ------------------------------

# The staging input columns of each vocabulary field, in the order staging reads them.
STAGED_NAMES = {
    "latitude": "raw_latitude",
    "longitude": "raw_longitude",
    "mgrs": "mgrs_ref",
    "place_name": "place_name",
    "admin0": "admin0_ref",
    "admin1": "admin1_ref",
    "admin2": "admin2_ref",
    "incident_type": "source_incident_type",
    "fatalities": "fatalities_text",
    "description": "description",
    "organisation": "organisation_name",
    "organisation_acronym": "organisation_acronym",
    "organisation_type": "organisation_type",
    "sector": "source_sector",
    "unit": "source_unit",
    "quantity": "quantity_text",
    "beneficiaries": "beneficiaries_text",
    "patrol_unit": "patrol_unit",
    "patrol_type": "source_patrol_type",
}


# The text column beside each time field's timestamp.
TIME_TEXT = {"ended_at": "end_text"}


def staged_columns(entity: str) -> list[str]:
    """The columns every feed of `entity` gives its staging model, in order."""
    columns = ["time_text", "time_precision", "is_retraction"]
    columns += [STAGED_NAMES[f] for f in ENTITY_FIELDS[entity]]
    for name in ENTITY_TIME_FIELDS[entity]:
        columns += [TIME_TEXT[name], name]
    return columns


def empty_column(name: str) -> str:
    """A typed NULL of a staged column: what an entity no feed reports has."""
    if name == "is_retraction":
        return "CAST(NULL AS BOOLEAN)"
    if name in ENTITY_TIME_FIELDS["patrol"]:
        return "CAST(NULL AS TIMESTAMPTZ)"
    return NULL


def staged_sql(feed: Feed, agency_acronym: str | None, reader: Payload) -> dict[str, str]:
    """Column -> SQL over the stored payload (read by `reader`), for every staged column
    of the feed's entity."""
    m = feed.mapping
    occurred = time_sql(reader, m.occurred_at)
    out = {
        "time_text": occurred.text,
        "time_precision": occurred.precision,
        "is_retraction": f"event_type = {literal(feed.event_types['retracted'])}",
    }
    for name in ENTITY_FIELDS[feed.entity]:
        sources = m.fields.get(name)
        out[STAGED_NAMES[name]] = first_present(reader, sources) if sources else NULL
    if feed.entity in ("delivery", "presence") and "organisation" not in m.fields:
        # a feed of one organisation's own deliveries names no organisation: it is the agency
        out["organisation_name"] = literal(agency_acronym or feed.agency)
    for name in ENTITY_TIME_FIELDS[feed.entity]:
        spec = m.times.get(name)
        if spec is None:
            out[TIME_TEXT[name]], out[name] = NULL, "CAST(NULL AS TIMESTAMPTZ)"
        else:
            t = time_sql(reader, spec)
            out[TIME_TEXT[name]], out[name] = t.text, t.at
    assert list(out) == staged_columns(feed.entity), feed.id
    return out


def dbt_contract(registry: Registry) -> dict[str, dict]:
    """The dbt var `peaceops_contract`: per entity, its staged columns and, per feed, the
    SQL of each and of the payload's fields they read (`fields`: column PAYLOAD_FIELDS).
    The staging models (macro `stage_feeds`) splice these in."""
    acronyms = {a.id: a.acronym for a in registry.agencies}
    entities: dict[str, dict] = {}
    for entity in ENTITY_FIELDS:
        if entity == "none":
            continue
        feeds = [f for f in registry.feeds if f.entity == entity]
        branches = []
        for f in feeds:
            reader = Payload()
            sql = staged_sql(f, acronyms.get(f.agency), reader)
            branches.append({"id": f.id, "sql": sql, "fields": reader.extraction()})
        entities[entity] = {
            "empty": {c: empty_column(c) for c in staged_columns(entity)},
            "feeds": branches,
        }
    return entities


def mission_start(registry: Registry) -> datetime:
    start: date = registry.mission.start
    return datetime(start.year, start.month, start.day, tzinfo=UTC)
