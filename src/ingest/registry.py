"""The feed registry: `feeds.yaml` read into checked `Feed` objects.

A wrong entry fails at load time with a message naming the feed and the field,
long before any connector runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KINDS = ("http_json", "file_drop")
FORMATS = ("csv", "hxl", "json", "jsonl", "xlsx", "xml")
RELEASABILITY = ("public", "partners", "mission", "restricted")
TIME_FORMATS = ("iso", "dayfirst", "dtg", "local")
FEED_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class RegistryError(ValueError):
    """A feeds.yaml entry is wrong; the message names the feed and the field."""


@dataclass(frozen=True)
class TimeField:
    fields: tuple[str, ...]
    format: str
    patterns: tuple[str, ...] = ()
    tz: str | None = None


@dataclass(frozen=True)
class Retraction:
    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class FieldMap:
    record_id: tuple[str, ...]
    occurred_at: TimeField
    event_types: dict[str, str]
    supersedes: tuple[str, ...] = ()
    retraction: Retraction | None = None
    releasability_field: str | None = None


@dataclass(frozen=True)
class Feed:
    id: str
    agency: str
    name: str
    kind: str
    format: str
    location: str
    schedule: str
    owner: str
    releasability: str
    schema_version: int
    mapping: FieldMap
    auth_url: str | None = None
    page_size: int = 500
    credentials_env: str | None = None
    credentials_conn: str | None = None
    decode_options: dict[str, Any] = field(default_factory=dict)


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


class _Entry:
    """Typed access to one raw feeds.yaml entry with errors that name the field."""

    def __init__(self, feed_id: str, raw: Mapping[str, Any]):
        self.feed_id = feed_id
        self.raw = raw

    def fail(self, fld: str, problem: str) -> RegistryError:
        return RegistryError(f"feeds.yaml: feed '{self.feed_id}', field '{fld}': {problem}")

    def get(self, fld: str, kind: type, default: Any = ..., raw: Mapping[str, Any] | None = None):
        src = self.raw if raw is None else raw
        if fld not in src or src[fld] is None:
            if default is ...:
                raise self.fail(fld, "is required")
            return default
        value = src[fld]
        if kind is int and isinstance(value, bool):
            raise self.fail(fld, f"must be {kind.__name__}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(fld, f"must be {kind.__name__}, got {type(value).__name__}")
        return value

    def choice(self, fld: str, choices: tuple[str, ...], value: str) -> str:
        if value not in choices:
            raise self.fail(fld, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def names(self, fld: str, raw: Mapping[str, Any], required: bool = True) -> tuple[str, ...]:
        value = raw.get(fld)
        if value is None and not required:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(f"mapping.{fld}", "must be a column name or a non-empty list of names")
        return tuple(value)


def _mapping(e: _Entry) -> FieldMap:
    raw = e.get("mapping", dict)
    occ = raw.get("occurred_at")
    if not isinstance(occ, dict):
        raise e.fail("mapping.occurred_at", "must be a mapping with fields and format")
    fmt = e.choice("mapping.occurred_at.format", TIME_FORMATS, str(occ.get("format")))
    patterns = tuple(occ.get("patterns") or ())
    if fmt in ("dayfirst", "local") and not patterns:
        raise e.fail("mapping.occurred_at.patterns", f"format {fmt!r} needs strptime patterns")
    tz = occ.get("tz")
    if fmt == "local" and not tz:
        raise e.fail("mapping.occurred_at.tz", "format 'local' needs the agency's time zone")
    types = raw.get("event_types")
    if not isinstance(types, dict) or set(types) != {"reported", "corrected", "retracted"}:
        raise e.fail("mapping.event_types", "must map reported, corrected and retracted")
    retraction = None
    if (r := raw.get("retraction")) is not None:
        if not isinstance(r, dict) or not isinstance(r.get("field"), str) or not r.get("values"):
            raise e.fail("mapping.retraction", "must have a field and a list of values")
        retraction = Retraction(r["field"], tuple(str(v) for v in r["values"]))
    rel = raw.get("releasability") or {}
    return FieldMap(
        record_id=e.names("record_id", raw),
        occurred_at=TimeField(e.names("fields", occ), fmt, patterns, tz),
        event_types={k: str(v) for k, v in types.items()},
        supersedes=e.names("supersedes", raw, required=False),
        retraction=retraction,
        releasability_field=rel.get("field") if isinstance(rel, dict) else None,
    )


def _feed(raw: Any, index: int, env: Mapping[str, str], data_dir: Path) -> Feed:
    if not isinstance(raw, dict):
        raise RegistryError(f"feeds.yaml: entry #{index + 1} must be a mapping")
    feed_id = raw.get("id")
    e = _Entry(str(feed_id) if feed_id else f"#{index + 1}", raw)
    feed_id = e.get("id", str)
    if not FEED_ID.match(feed_id):
        raise e.fail("id", "must look like '<agency>.<feed>' in lower case, e.g. 'unmic.sitreps'")
    agency = e.get("agency", str)
    if feed_id.split(".")[0] != agency:
        raise e.fail("agency", f"must be the id's prefix {feed_id.split('.')[0]!r}")
    kind = e.choice("kind", KINDS, e.get("kind", str))
    try:
        location = expand_vars(e.get("location", str), env)
        auth_url = e.get("auth_url", str, None)
        auth_url = expand_vars(auth_url, env) if auth_url else None
    except RegistryError as err:
        raise e.fail("location", str(err)) from None
    if kind == "http_json":
        if not location.startswith(("http://", "https://")):
            raise e.fail("location", "an http_json feed needs an http(s) URL")
        if not auth_url:
            raise e.fail("auth_url", "an http_json feed needs the token endpoint")
    elif not Path(location).is_absolute():
        location = str(data_dir / location)
    creds = e.get("credentials", dict, {})
    if kind == "http_json" and not creds.get("env") and not creds.get("airflow_conn"):
        raise e.fail("credentials", "name an environment variable (env) or an Airflow connection")
    if "secret" in creds or "token" in creds or "password" in creds:
        raise e.fail("credentials", "secrets never live in feeds.yaml; name where they come from")
    return Feed(
        id=feed_id,
        agency=agency,
        name=e.get("name", str, feed_id),
        kind=kind,
        format=e.choice("format", FORMATS, e.get("format", str)),
        location=location,
        schedule=e.get("schedule", str),
        owner=e.get("owner", str, "peaceops"),
        releasability=e.choice("releasability", RELEASABILITY, e.get("releasability", str)),
        schema_version=e.get("schema_version", int),
        mapping=_mapping(e),
        auth_url=auth_url,
        page_size=e.get("page_size", int, 500),
        credentials_env=creds.get("env"),
        credentials_conn=creds.get("airflow_conn"),
        decode_options=e.get("decode", dict, {}),
    )


def parse_registry(text: str, env: Mapping[str, str], data_dir: Path) -> list[Feed]:
    """Parse feeds.yaml text; pure, so it tests without files."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RegistryError(f"feeds.yaml is not valid YAML: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("feeds"), list):
        raise RegistryError("feeds.yaml must have a top-level 'feeds' list")
    feeds = [_feed(raw, i, env, data_dir) for i, raw in enumerate(doc["feeds"])]
    seen: set[str] = set()
    for f in feeds:
        if f.id in seen:
            raise RegistryError(f"feeds.yaml: feed '{f.id}' is listed twice")
        seen.add(f.id)
    return feeds


def default_registry_path() -> Path:
    return Path(os.environ.get("PEACEOPS_FEEDS", "feeds.yaml"))


def load_registry(path: Path | None = None, data_dir: Path | None = None) -> list[Feed]:
    from ingest.paths import data_dir as default_data_dir

    path = path or default_registry_path()
    if not path.exists():
        raise RegistryError(f"feed registry {path} not found (set PEACEOPS_FEEDS)")
    return parse_registry(
        path.read_text(encoding="utf-8"), os.environ, data_dir or default_data_dir()
    )


def select(feeds: list[Feed], feed_id: str | None) -> list[Feed]:
    if feed_id is None:
        return feeds
    chosen = [f for f in feeds if f.id == feed_id]
    if not chosen:
        known = ", ".join(f.id for f in feeds)
        raise RegistryError(f"no feed '{feed_id}' in the registry (known: {known})")
    return chosen
