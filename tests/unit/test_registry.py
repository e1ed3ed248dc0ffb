"""feeds.yaml: the real registry loads, and a wrong entry names the feed and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.feeds.registry import RegistryError, expand_vars, load_registry, parse_registry

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
    feeds = load_registry(ROOT / "feeds.yaml", tmp_path).feeds
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


def doc_with(mutate) -> str:
    doc = yaml.safe_load((ROOT / "feeds.yaml").read_text())
    mutate(doc)
    return yaml.safe_dump(doc, allow_unicode=True)


def feed_of(doc: dict, feed_id: str) -> dict:
    return next(f for f in doc["feeds"] if f["id"] == feed_id)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        # an unknown key anywhere is an error that names the nearest valid one
        (
            lambda d: feed_of(d, "unmic.sitreps").update(releasibility="mission"),
            "feed 'unmic.sitreps', field 'releasibility': unknown field; did you mean 'releasability'?",
        ),
        (
            lambda d: feed_of(d, "moi.incidents")["mapping"].update(fatalites="Killed"),
            "field 'mapping.fatalites': an incident has no field 'fatalites'; did you mean 'fatalities'?",
        ),
        (
            lambda d: feed_of(d, "moi.incidents")["mapping"]["occurred_at"].update(formt="iso"),
            "field 'mapping.occurred_at.formt': unknown field; did you mean 'format'?",
        ),
        (
            lambda d: feed_of(d, "forcar.patrols").update(decode={"delimeter": ";"}),
            "field 'decode.delimeter': unknown field; did you mean 'delimiter'?",
        ),
        (
            lambda d: d.update(agencys=[]),
            "field 'agencys': unknown field; did you mean 'agencies'?",
        ),
        # bad strptime patterns and time zones fail here, not as a traceback mid-ingest
        (
            lambda d: feed_of(d, "moi.incidents")["mapping"]["occurred_at"].update(
                patterns=["%d/%q/%Y"]
            ),
            "strptime pattern '%d/%q/%Y' has an unknown directive '%q'",
        ),
        (
            lambda d: feed_of(d, "moi.incidents")["mapping"]["occurred_at"].update(patterns=["%B"]),
            "strptime pattern '%B' has no year",
        ),
        (
            lambda d: feed_of(d, "moi.incidents")["mapping"]["occurred_at"].update(tz="Mars/Base"),
            "'Mars/Base' is not an IANA time zone",
        ),
        (
            lambda d: feed_of(d, "moi.incidents")["mapping"]["occurred_at"].update(
                default="2021-13"
            ),
            "default '2021-13' is not a date: month must be in 1..12",
        ),
        # a field of another entity, a code for an uncoded field
        (
            lambda d: feed_of(d, "unmic.sitreps")["mapping"].update(patrol_type="x"),
            "an incident has no field 'patrol_type'",
        ),
        (
            lambda d: feed_of(d, "moi.incidents").update(codes={"fatalities": {"x": "y"}}),
            "field 'codes.fatalities': not a coded field of an incident",
        ),
        (
            lambda d: feed_of(d, "moi.incidents").update(entity="incidents"),
            "'incidents' is not one of incident, delivery, patrol, presence, none; did you mean 'incident'?",
        ),
        # every feed's agency is declared, once
        (
            lambda d: d["agencies"].pop(0),
            "agency 'unmic' is not declared under agencies:",
        ),
        (
            lambda d: d["agencies"].append(dict(d["agencies"][0])),
            "agency 'unmic' is listed twice",
        ),
        (
            lambda d: d["agencies"][0].update(kind="UNO"),
            "agency 'unmic', field 'kind': 'UNO' is not one of",
        ),
        (
            lambda d: feed_of(d, "cpn.incidents").update(freshness="daily"),
            "'daily' is not a duration like 30m, 6h, 2d or 1w",
        ),
    ],
)
def test_contract_is_validated_strictly(tmp_path: Path, mutate, message):
    with pytest.raises(RegistryError) as err:
        parse_registry(doc_with(mutate), {}, tmp_path, base=ROOT)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_contract_forms(tmp_path: Path):
    """Composite keys, content-hash keys, JSON paths, defaults, agencies and packs."""

    def mutate(d):
        moi = feed_of(d, "moi.incidents")
        moi["mapping"]["record_id"] = {"all": ["Date", "Place"]}
        moi["mapping"]["occurred_at"]["default"] = "2026-10"
        cpn = feed_of(d, "cpn.incidents")
        cpn["mapping"]["record_id"] = "content"
        cpn["mapping"]["latitude"] = {"column": "geo", "path": "$.lat"}

    registry = parse_registry(doc_with(mutate), {}, tmp_path, base=ROOT)
    moi, cpn = registry.feed("moi.incidents"), registry.feed("cpn.incidents")
    assert moi.mapping.record_id.all == ("Date", "Place")
    assert moi.mapping.occurred_at.default_precision == "month"
    assert cpn.mapping.record_id == "content"
    assert cpn.mapping.fields["latitude"][0].path == "$.lat"
    assert registry.country_packs == (ROOT / "packs" / "carana",)
    assert registry.agency("forcar").is_military and not registry.agency("ocha").is_military
    # a `local` time without a zone of its own takes the mission's
    assert registry.mission.timezone == "Africa/Nairobi"


def test_local_time_without_zone_takes_the_missions(tmp_path: Path):
    def mutate(d):
        d["mission"]["timezone"] = "Asia/Kabul"
        feed_of(d, "moi.incidents")["mapping"]["occurred_at"].pop("tz")

    registry = parse_registry(doc_with(mutate), {}, tmp_path, base=ROOT)
    assert registry.feed("moi.incidents").mapping.occurred_at.tz == "Asia/Kabul"


def test_required_columns_of_a_tabular_feed(tmp_path: Path):
    moi = load_registry(ROOT / "feeds.yaml", tmp_path).feed("moi.incidents")
    required = dict(moi.required_columns())
    assert required["record_id"] == ("Incident No", "Incident Number")
    assert required["incident_type"] == ("Type",)
    cpn = load_registry(ROOT / "feeds.yaml", tmp_path).feed("cpn.incidents")
    # JSON records may leave keys out: only the envelope's columns are required
    assert {f for f, _ in cpn.required_columns()} == {"record_id", "occurred_at"}
