"""The feed registry: `feeds.yaml` read into checked objects (docs/feed-contract.md).

One file declares the deployment: the agencies, the country pack, the mission and
one entry per feed (where and how to pull it, which entity its records are and how
every field of that entity is read). Everything else (ingest, the dbt staging, the
agency dimension, the gate's vocabularies, freshness) reads from here.

The file is validated strictly when it is loaded: an unknown key is an error that
suggests the nearest valid name, a bad strptime pattern or time zone fails here,
and every message names the feed and the field.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingest.releasability import Level

KINDS = ("http_json", "file_drop")
FORMATS = ("csv", "hxl", "json", "jsonl", "xlsx", "xml")
TIME_FORMATS = ("iso", "dayfirst", "dtg", "local")
AGENCY_KINDS = ("UN", "military", "regional organisation", "government", "NGO", "local actor")
ENTITIES = ("incident", "delivery", "patrol", "presence", "none")
PRECISIONS = ("minute", "day", "month", "year")
FEED_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
AGENCY_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# strptime directives DuckDB understands (%-d and friends included); anything else
# after a % is a typo that would fail every record at run time.
_DIRECTIVE = re.compile(r"%(-?[aAbBcdHIjmMpSUwWxXyYzZ%f]|G|V|u|g|n|t|e)")
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

# The vocabulary fields each entity's records can carry (DESIGN.md, "The common
# vocabulary"), with what each one means. The staging of every feed reads these and
# nothing else; docs/feed-contract.md lists them.
PLACE_FIELDS = {
    "latitude": "WGS84 latitude in decimal degrees",
    "longitude": "WGS84 longitude in decimal degrees",
    "mgrs": "military grid reference (MGRS), converted to WGS84",
    "place_name": "a place or site name, matched to the country pack's places",
    "admin0": "the country: ISO 3166 alpha-3 code, admin0 p-code or name",
    "admin1": "the admin1 area: p-code or name (names and variants from the country pack)",
    "admin2": "the admin2 area: p-code or name",
}
ENTITY_FIELDS: dict[str, dict[str, str]] = {
    "incident": {
        **PLACE_FIELDS,
        "incident_type": "the agency's incident code or term, mapped to an ACLED sub-event type",
        "fatalities": "number of people killed",
        "description": "free text (shared at mission level only)",
    },
    "delivery": {
        **PLACE_FIELDS,
        "organisation": "the delivering organisation's name",
        "organisation_acronym": "its acronym",
        "sector": "the sector or cluster term, mapped to an IASC cluster code",
        "unit": "the unit of the quantity, mapped to a standard unit",
        "quantity": "quantity delivered",
        "beneficiaries": "people reached",
        "description": "free text (shared at mission level only)",
    },
    "patrol": {
        **PLACE_FIELDS,
        "patrol_unit": "the unit that patrolled (shared at mission level only)",
        "patrol_type": "the patrol's task, mapped to a patrol type",
        "description": "free text (shared at mission level only)",
    },
    "presence": {
        **PLACE_FIELDS,
        "organisation": "the organisation's name",
        "organisation_acronym": "its acronym",
        "organisation_type": "its type (UN agency, international NGO, ...)",
        "sector": "the sector or cluster term, mapped to an IASC cluster code",
    },
    "none": {},
}
# Fields read as times (with a format) rather than as text.
TIME_FIELDS = {
    "ended_at": "the end of the period the record covers (a patrol's return, a 3W period's end)",
}
ENTITY_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": (),
    "delivery": ("ended_at",),
    "patrol": ("ended_at",),
    "presence": ("ended_at",),
    "none": (),
}
# Fields whose values are codes mapped through a seed (plus the feed's own `codes`).
CODE_FIELDS = {
    "incident_type": "map_incident_types",
    "sector": "map_sectors",
    "unit": "map_units",
    "patrol_type": "map_patrol_types",
}


class RegistryError(ValueError):
    """A feeds.yaml entry is wrong; the message names the feed and the field."""


def suggest(name: str, valid: Sequence[str]) -> str:
    """'; did you mean 'x'?' when a valid name is close to `name`, else ''."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _names(value: Any) -> Any:
    """A column name or a list of alternative names, as a tuple."""
    if isinstance(value, str):
        return (value,)
    return value


Columns = tuple[str, ...]


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration like 30m, 6h, 2d or 1w")
    return timedelta(**{_DURATION_UNITS[m.group(2)]: int(m.group(1))})


def pattern_precision(pattern: str) -> str:
    """The precision a strptime pattern gives: minute with a clock time, day with a day,
    month with a month, year with only a year."""
    directives = {d.lstrip("-") for d in _DIRECTIVE.findall(pattern)}
    if directives & {"H", "I", "M", "S", "c", "X"}:
        return "minute"
    if directives & {"d", "j", "x", "e"}:
        return "day"
    if directives & {"m", "b", "B"}:
        return "month"
    return "year"


def _check_pattern(pattern: str) -> str:
    stripped = _DIRECTIVE.sub("", pattern)
    if "%" in stripped:
        bad = stripped[stripped.index("%") : stripped.index("%") + 2]
        raise ValueError(f"strptime pattern {pattern!r} has an unknown directive {bad!r}")
    directives = {d.lstrip("-") for d in _DIRECTIVE.findall(pattern)}
    if not directives & {"Y", "y", "G", "c", "x"}:
        # "%B" alone parses "June" as 1900-06-01: a date needs its year.
        raise ValueError(f"strptime pattern {pattern!r} has no year (%Y or %y)")
    return pattern


class JsonPath(_Strict):
    """A value inside a column that holds JSON text (a nested object the decoder kept)."""

    column: str
    path: str

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("$"):
            raise ValueError(f"JSON path {value!r} must start with '$', e.g. '$.location.lat'")
        return value


class Constant(_Strict):
    """A value every record of the feed has, though no column says it (the sector of a
    camp-management feed, the organisation of a one-agency feed)."""

    value: str


Source = str | JsonPath | Constant


def source_column(source: Source) -> str | None:
    """The column a source reads (None for a constant)."""
    if isinstance(source, Constant):
        return None
    return source if isinstance(source, str) else source.column


class FileNameDate(_Strict):
    """A date taken from the payload's file name: a regex with named groups year,
    month and (optionally) day; the precision follows from the groups present."""

    pattern: str

    @field_validator("pattern")
    @classmethod
    def _groups(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as err:
            raise ValueError(f"not a regular expression: {err}") from None
        if "year" not in compiled.groupindex:
            raise ValueError("needs a named group (?P<year>...) (and month, day if present)")
        if "day" in compiled.groupindex and "month" not in compiled.groupindex:
            raise ValueError("a (?P<day>...) group needs a (?P<month>...) group")
        return value

    @property
    def precision(self) -> str:
        groups = re.compile(self.pattern).groupindex
        return "day" if "day" in groups else "month" if "month" in groups else "year"


class TimeSpec(_Strict):
    """How a time is read from a record: its column(s) and format, and what a record
    (or a whole file) without one gets."""

    fields: tuple[Source, ...] = ()
    format: Literal["iso", "dayfirst", "dtg", "local"] = "iso"
    patterns: tuple[str, ...] = ()
    tz: str | None = None
    # For records with no time: an ISO date, year-month or year (its precision).
    default: str | None = None
    from_file_name: FileNameDate | None = None

    as_fields = field_validator("fields", mode="before")(_names)

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_pattern(p) for p in value)

    valid_tz = field_validator("tz")(lambda value: value if value is None else check_tz(value))

    @field_validator("default")
    @classmethod
    def _default(cls, value: str | None) -> str | None:
        if value is not None:
            default_precision(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TimeSpec:
        if not self.fields and self.default is None and self.from_file_name is None:
            raise ValueError(
                "needs fields (the column(s) holding the time), a default or from_file_name"
            )
        if self.format in ("dayfirst", "local") and not self.patterns:
            raise ValueError(f"format {self.format!r} needs strptime patterns")
        return self

    @property
    def default_precision(self) -> str | None:
        if self.default is not None:
            return default_precision(self.default)
        if self.from_file_name is not None:
            return self.from_file_name.precision
        return None


def check_tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Africa/Nairobi)") from None
    return value


def default_precision(text: str) -> str:
    """Precision of an ISO partial date: 2021 → year, 2021-03 → month, 2021-03-15 → day."""
    for pattern, precision in (
        (r"\d{4}", "year"),
        (r"\d{4}-\d{2}", "month"),
        (r"\d{4}-\d{2}-\d{2}", "day"),
    ):
        if re.fullmatch(pattern, text.strip()):
            parts = [int(p) for p in text.strip().split("-")] + [1, 1]
            try:
                date(parts[0], parts[1], parts[2])
            except ValueError as err:
                raise ValueError(f"default {text!r} is not a date: {err}") from None
            return precision
    raise ValueError(
        f"default {text!r} is not an ISO date, year-month or year (2021-03-15, 2021-03, 2021)"
    )


class RecordKey(_Strict):
    """`all`: several columns that together identify a record (joined with '|')."""

    all: Columns

    as_all = field_validator("all", mode="before")(_names)


class Retraction(_Strict):
    field: str
    values: tuple[str, ...] = Field(min_length=1)

    @field_validator("values", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return tuple(str(v) for v in value) if isinstance(value, list) else value


class Classification(_Strict):
    """The record's own releasability marking. Missing, empty or unknown markings make
    the record `restricted` (need to know fails closed)."""

    field: str
    # The agency's own terms for each level; the level names themselves always count.
    values: dict[str, Level] = {}


EventTypes = dict[Literal["reported", "corrected", "retracted"], str]


class Mapping_(_Strict):
    """How the envelope and every vocabulary field are read from a record."""

    record_id: Columns | RecordKey | Literal["content"]
    occurred_at: TimeSpec
    supersedes: Columns = ()
    retraction: Retraction | None = None
    classification: Classification | None = None
    event_types: EventTypes | None = None
    # vocabulary field -> alternative sources (validated per entity by Feed)
    fields: dict[str, tuple[Source, ...]] = {}
    times: dict[str, TimeSpec] = {}

    @field_validator("record_id", mode="before")
    @classmethod
    def _record_id(cls, value: Any) -> Any:
        if value == "content" or isinstance(value, dict):
            return value
        value = _names(value)
        if not value:
            raise ValueError(
                "must be a column name, a list of alternatives, {all: [...]} or 'content'"
            )
        return value

    as_supersedes = field_validator("supersedes", mode="before")(_names)

    @property
    def record_columns(self) -> Columns:
        """Every column the record id may come from."""
        if isinstance(self.record_id, RecordKey):
            return self.record_id.all
        if self.record_id == "content":
            return ()
        return self.record_id

    @property
    def releasability_field(self) -> str | None:
        return self.classification.field if self.classification else None


class Credentials(_Strict):
    env: str | None = None
    airflow_conn: str | None = None


class DecodeOptions(_Strict):
    delimiter: str | None = None
    encoding: str | None = None
    records_path: str | None = None
    record_tag: str | None = None
    sheets: tuple[str, ...] | None = None
    header_rows: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Feed(_Strict):
    """One agency feed: one entry of feeds.yaml."""

    id: str
    agency: str
    name: str
    kind: Literal["http_json", "file_drop"]
    format: Literal["csv", "hxl", "json", "jsonl", "xlsx", "xml"]
    location: str
    schedule: str
    owner: str = "peaceops"
    releasability: Level
    schema_version: int = Field(strict=True)
    entity: Literal["incident", "delivery", "patrol", "presence", "none"]
    mapping: Mapping_
    codes: dict[str, dict[str, str]] = {}
    # The country of a feed's records that name no place (admin0 code of the pack).
    country: str | None = None
    freshness: str | None = None
    auth_url: str | None = None
    page_size: int = 500
    credentials: Credentials = Credentials()
    decode: DecodeOptions = DecodeOptions()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not FEED_ID.match(value):
            raise ValueError("must look like '<agency>.<feed>' in lower case, e.g. 'unmic.sitreps'")
        return value

    @field_validator("freshness")
    @classmethod
    def _freshness(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("credentials", mode="before")
    @classmethod
    def _no_secrets(cls, value: Any) -> Any:
        if isinstance(value, dict) and {"secret", "token", "password"} & set(value):
            raise ValueError(
                "secrets never live in feeds.yaml; name where they come from (env or airflow_conn)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Feed:
        if self.agency != self.id.split(".")[0]:
            raise _FieldError("agency", f"must be the id's prefix {self.id.split('.')[0]!r}")
        if self.kind == "http_json":
            if not self.location.startswith(("http://", "https://")):
                raise _FieldError("location", "an http_json feed needs an http(s) URL")
            if not self.auth_url:
                raise _FieldError("auth_url", "an http_json feed needs the token endpoint")
            if not self.credentials.env and not self.credentials.airflow_conn:
                raise _FieldError(
                    "credentials", "name an environment variable (env) or an Airflow connection"
                )
        allowed = ENTITY_FIELDS[self.entity]
        for name in self.mapping.fields:
            if name not in allowed:
                hint = suggest(name, [*allowed, *ENTITY_TIME_FIELDS[self.entity]])
                raise _FieldError(
                    f"mapping.{name}",
                    f"{_a(self.entity)} has no field {name!r}{hint}"
                    + ("" if hint else f" (its fields: {', '.join(allowed) or 'none'})"),
                )
        for name in self.mapping.times:
            if name not in ENTITY_TIME_FIELDS[self.entity]:
                raise _FieldError(
                    f"mapping.{name}", f"{_a(self.entity)} has no time field {name!r}"
                )
        for name in self.codes:
            if name not in CODE_FIELDS or name not in allowed:
                coded = [c for c in CODE_FIELDS if c in allowed]
                raise _FieldError(
                    f"codes.{name}",
                    f"not a coded field of {_a(self.entity)}{suggest(name, coded)}"
                    f" (coded fields: {', '.join(coded) or 'none'})",
                )
        return self

    # -- derived ------------------------------------------------------------

    @property
    def event_types(self) -> EventTypes:
        """The envelope's event types: declared, else `<entity>.reported` etc."""
        stem = "record" if self.entity == "none" else self.entity
        return self.mapping.event_types or {
            "reported": f"{stem}.reported",
            "corrected": f"{stem}.corrected",
            "retracted": f"{stem}.retracted",
        }

    @property
    def credentials_env(self) -> str | None:
        return self.credentials.env

    @property
    def credentials_conn(self) -> str | None:
        return self.credentials.airflow_conn

    @property
    def decode_options(self) -> dict[str, Any]:
        return self.decode.as_dict()

    @property
    def is_tabular(self) -> bool:
        """Formats with a header every record shares (a missing column is the file's fault)."""
        return self.format in ("csv", "hxl", "xlsx")

    def required_columns(self) -> list[tuple[str, Columns]]:
        """(field, alternatives) that a file must have one of, for its records to become
        events; with tabular formats every mapped vocabulary field too."""
        m = self.mapping
        out: list[tuple[str, Columns]] = []
        if isinstance(m.record_id, RecordKey):
            out += [("record_id", (c,)) for c in m.record_id.all]
        elif m.record_id != "content":
            out.append(("record_id", m.record_id))
        occ = m.occurred_at
        if occ.default is None and occ.from_file_name is None:
            out += [("occurred_at", (c,)) for c in map(source_column, occ.fields) if c]
        if self.is_tabular:
            for name, sources in m.fields.items():
                columns = tuple(c for c in map(source_column, sources) if c)
                if len(columns) == len(sources):  # a constant alternative never misses
                    out.append((name, columns))
        return out


def _a(entity: str) -> str:
    return (
        "a record kept raw"
        if entity == "none"
        else f"{'an' if entity[0] in 'aeiou' else 'a'} {entity}"
    )


class _FieldError(ValueError):
    """Raised inside a model validator to name the field that is wrong."""

    def __init__(self, field: str, problem: str):
        super().__init__(problem)
        self.field = field
        self.problem = problem


class Agency(_Strict):
    id: str
    name: str
    acronym: str | None = None
    kind: Literal["UN", "military", "regional organisation", "government", "NGO", "local actor"]
    # The hub's prior of how often the agency's reports are right (used by resolution).
    reliability: float = Field(default=0.5, ge=0, le=1)
    humanitarian: bool = False
    # Defaults to kind == military; a regional force says so explicitly.
    military: bool | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not AGENCY_ID.match(value):
            raise ValueError("must be lower case letters, digits and _, e.g. 'unmic'")
        return value

    @property
    def is_military(self) -> bool:
        return self.kind == "military" if self.military is None else self.military


class Mission(_Strict):
    # No time in a published mart may lie before this (UTC); earlier records are
    # listed in normalisation_issues instead.
    start: date = date(2026, 1, 1)
    # The zone of `local` times that name none.
    timezone: str = "UTC"
    # The aggregate rule (docs/need-to-know.md): a row of counts and codes that counts at
    # least `aggregate_minimum_count` records is released at `aggregate_releasability`
    # (or its sources' level, if less strict); a smaller count keeps its sources' level.
    aggregate_releasability: Level = "partners"
    aggregate_minimum_count: int = Field(default=5, ge=1)

    valid_timezone = field_validator("timezone")(check_tz)


class Registry(_Strict):
    """The whole of feeds.yaml."""

    version: Literal[2] = 2
    country_packs: tuple[Path, ...] = ()
    mission: Mission = Mission()
    agencies: tuple[Agency, ...] = ()
    feeds: tuple[Feed, ...] = ()

    def feed(self, feed_id: str) -> Feed:
        return select(list(self.feeds), feed_id)[0]

    def agency(self, agency_id: str) -> Agency:
        return next(a for a in self.agencies if a.id == agency_id)


def expand_vars(text: str, env: Mapping[str, str]) -> str:
    """Expand ${VAR} and ${VAR:-default}; an unset VAR without default is an error."""

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise RegistryError(f"environment variable {name} is not set and has no default")

    return _VAR.sub(sub, text)


def _where(loc: Sequence[int | str], doc: Mapping[str, Any]) -> tuple[str, str]:
    """('feed 'x'' or 'agency 'y'' or '', dotted field path) for a pydantic error location."""
    if len(loc) >= 2 and loc[0] in ("feeds", "agencies") and isinstance(loc[1], int):
        items = doc.get(str(loc[0])) or []
        raw = items[loc[1]] if loc[1] < len(items) else {}
        ident = raw.get("id") if isinstance(raw, dict) else None
        what = "feed" if loc[0] == "feeds" else "agency"
        return f"{what} '{ident or f'#{loc[1] + 1}'}'", ".".join(str(p) for p in loc[2:])
    return "", ".".join(str(p) for p in loc)


def _valid_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The keys a model accepts at `loc` (for 'did you mean')."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _model_of(field.annotation)
    fields = getattr(current, "model_fields", {})
    return [f.alias or name for name, f in fields.items()]


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _message(err: Mapping[str, Any], doc: Mapping[str, Any]) -> str:
    loc = tuple(
        p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-")))
    )
    # union branches add the branch type to the location: keep the field path only
    loc = tuple(
        p
        for p in loc
        if not (isinstance(p, str) and ("[" in p or p in ("str", "JsonPath", "RecordKey")))
    )
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, _FieldError):
        loc = (*loc, *inner.field.split("."))
        problem = inner.problem
    elif err["type"] == "extra_forbidden":
        name = str(loc[-1])
        keys = _valid_keys(Registry, loc)
        if name in ENTITY_FIELDS.get("incident", {}) or any(
            name in f for f in ENTITY_FIELDS.values()
        ):
            keys += [k for f in ENTITY_FIELDS.values() for k in f]
        problem = f"unknown field{suggest(name, keys)}"
    elif err["type"] == "missing":
        problem = "is required"
    elif err["type"] == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        problem = f"{err['input']!r} is not one of {', '.join(choices)}{suggest(str(err['input']), choices)}"
    elif inner is not None:
        problem = str(inner)
    else:
        problem = err["msg"].removeprefix("Value error, ")
    where, path = _where(loc, doc)
    prefix = f"feeds.yaml: {where}, field '{path}'" if where else f"feeds.yaml: field '{path}'"
    return f"{prefix}: {problem}"


def _prepare(
    doc: dict[str, Any], env: Mapping[str, str], data_dir: Path, base: Path
) -> dict[str, Any]:
    """Expand variables, resolve relative paths, lift vocabulary fields out of `mapping`
    (in the file they sit beside record_id and occurred_at; the model keeps them apart)
    and give `local` times without a zone the mission's."""
    doc = dict(doc)
    mission = doc.get("mission")
    zone = mission.get("timezone", "UTC") if isinstance(mission, dict) else "UTC"
    packs = doc.pop("country_pack", None)
    if packs is not None:
        packs = [packs] if isinstance(packs, str) else packs
        if isinstance(packs, list):
            doc["country_packs"] = [
                str(p if Path(p).is_absolute() else (base / expand_vars(str(p), env)).resolve())
                for p in (expand_vars(str(x), env) for x in packs)
            ]
        else:
            doc["country_packs"] = packs
    feeds = []
    for i, raw in enumerate(doc.get("feeds") or []):
        if not isinstance(raw, dict):
            feeds.append(raw)
            continue
        raw = dict(raw)
        ident = raw.get("id") or f"#{i + 1}"
        raw.setdefault("name", ident)
        for key in ("location", "auth_url"):
            if isinstance(raw.get(key), str):
                try:
                    raw[key] = expand_vars(raw[key], env)
                except RegistryError as err:
                    raise RegistryError(
                        f"feeds.yaml: feed '{ident}', field '{key}': {err}"
                    ) from None
        location = raw.get("location")
        if raw.get("kind") == "file_drop" and isinstance(location, str):
            raw["location"] = str(data_dir / location)  # an absolute location stays as it is
        mapping = raw.get("mapping")
        if isinstance(mapping, dict):
            raw["mapping"] = _split_mapping(mapping, zone)
        feeds.append(raw)
    if "feeds" in doc:
        doc["feeds"] = feeds
    return doc


_ENVELOPE_KEYS = (
    "record_id",
    "occurred_at",
    "supersedes",
    "retraction",
    "classification",
    "event_types",
)


def _split_mapping(mapping: dict[str, Any], zone: str) -> dict[str, Any]:
    def zoned(spec: Any) -> Any:
        if isinstance(spec, dict) and spec.get("format") == "local" and not spec.get("tz"):
            return {**spec, "tz": zone}
        return spec

    out: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    times: dict[str, Any] = {}
    for key, value in mapping.items():
        if key == "occurred_at":
            out[key] = zoned(value)
        elif key in _ENVELOPE_KEYS:
            out[key] = value
        elif key in TIME_FIELDS:
            times[key] = zoned(value)
        else:
            fields[key] = [value] if isinstance(value, str | dict) else value
    if fields:
        out["fields"] = fields
    if times:
        out["times"] = times
    return out


def parse_registry(
    text: str, env: Mapping[str, str], data_dir: Path, base: Path | None = None
) -> Registry:
    """Parse feeds.yaml text; pure, so it tests without files. `base` is the folder
    relative country-pack paths start from (the file's own folder)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RegistryError(f"feeds.yaml is not valid YAML: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("feeds"), list):
        raise RegistryError("feeds.yaml must have a top-level 'feeds' list")
    for i, raw in enumerate(doc["feeds"]):
        if not isinstance(raw, dict):
            raise RegistryError(f"feeds.yaml: entry #{i + 1} must be a mapping")
    prepared = _prepare(doc, env, data_dir, base or Path.cwd())
    try:
        registry = Registry.model_validate(prepared)
    except ValidationError as err:
        # an unknown key often explains the errors after it (a typo makes a field missing)
        errors = sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RegistryError(_message(errors[0], prepared) + more) from None
    _check_references(registry)
    return registry


def _check_references(registry: Registry) -> None:
    seen: set[str] = set()
    for f in registry.feeds:
        if f.id in seen:
            raise RegistryError(f"feeds.yaml: feed '{f.id}' is listed twice")
        seen.add(f.id)
    agencies = [a.id for a in registry.agencies]
    if len(set(agencies)) != len(agencies):
        dup = next(a for a in agencies if agencies.count(a) > 1)
        raise RegistryError(f"feeds.yaml: agency '{dup}' is listed twice")
    for f in registry.feeds:
        if f.agency not in agencies:
            raise RegistryError(
                f"feeds.yaml: feed '{f.id}', field 'agency': agency '{f.agency}' is not declared "
                f"under agencies: (add it with id, name and kind){suggest(f.agency, agencies)}"
            )


def load_registry(path: Path, data_dir: Path, env: Mapping[str, str] | None = None) -> Registry:
    """feeds.yaml at `path` (which file, and the data directory: ingest.settings)."""
    from ingest.settings import FEEDS_ENV

    if not path.exists():
        raise RegistryError(f"feed registry {path} not found (set {FEEDS_ENV})")
    return parse_registry(
        path.read_text(encoding="utf-8"),
        os.environ if env is None else env,
        data_dir,
        base=path.absolute().parent,
    )


def select(feeds: Sequence[Feed], feed_id: str | None) -> list[Feed]:
    if feed_id is None:
        return list(feeds)
    chosen = [f for f in feeds if f.id == feed_id]
    if not chosen:
        known = ", ".join(f.id for f in feeds)
        raise RegistryError(f"no feed '{feed_id}' in the registry (known: {known})")
    return chosen
