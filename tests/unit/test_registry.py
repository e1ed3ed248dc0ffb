"""feeds.yaml: the real registry loads, and a wrong entry names the feed and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.registry import RegistryError, expand_vars, load_registry, parse_registry

ROOT = Path(__file__).parents[2]


def registry_text(**changes) -> str:
    doc = yaml.safe_load((ROOT / "feeds.yaml").read_text())
    feed = doc["feeds"][0]
    for key, value in changes.items():
        if value is None:
            feed.pop(key, None)
        else:
            feed[key] = value
    return yaml.safe_dump(doc)


def test_project_registry_loads_every_feed(tmp_path: Path):
    feeds = load_registry(ROOT / "feeds.yaml", tmp_path)
    assert len(feeds) >= 7
    assert len({f.agency for f in feeds}) >= 7
    assert {f.kind for f in feeds} == {"http_json", "file_drop"}
    for f in feeds:
        if f.kind == "file_drop":
            assert f.location.startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "carrier_pigeon"}, "kind"),
        ({"releasability": "secret"}, "releasability"),
        ({"schedule": None}, "schedule"),
        ({"location": "ftp://x"}, "location"),
        ({"credentials": {"secret": "hunter2"}}, "credentials"),
        ({"schema_version": "one"}, "schema_version"),
        ({"agency": "other"}, "agency"),
        ({"id": "NoDot"}, "id"),
        (
            {
                "mapping": {
                    "record_id": [],
                    "occurred_at": {"fields": ["x"], "format": "iso"},
                    "event_types": {"reported": "a", "corrected": "b", "retracted": "c"},
                }
            },
            "mapping.record_id",
        ),
    ],
)
def test_wrong_entry_names_feed_and_field(tmp_path: Path, changes, field):
    with pytest.raises(RegistryError) as err:
        parse_registry(registry_text(**changes), {}, tmp_path)
    assert f"field '{field}'" in str(err.value)
    assert "feed '" in str(err.value)


def test_duplicate_feed_ids_are_refused(tmp_path: Path):
    doc = yaml.safe_load((ROOT / "feeds.yaml").read_text())
    doc["feeds"].append(doc["feeds"][1])
    with pytest.raises(RegistryError, match="listed twice"):
        parse_registry(yaml.safe_dump(doc), {}, tmp_path)


def test_env_expansion():
    assert expand_vars("${A}/${B:-x}", {"A": "1"}) == "1/x"
    with pytest.raises(RegistryError, match="NOPE"):
        expand_vars("${NOPE}", {})
