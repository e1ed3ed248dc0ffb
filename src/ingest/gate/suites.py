"""The Great Expectations suites of the gate, built from code and committed as JSON.

`python -m ingest.gate.suites` (or `peaceops check --write-suites`) regenerates the
GX file context under `expectations/`: great_expectations.yml (a pandas data source
with one dataframe asset per suite), one suite per published mart plus
`reconciliation` and `row_counts`, one validation definition per suite and the
checkpoint `gate` naming them all. Ids are derived from names (uuid5), so the same
code always writes the same bytes, and a test checks the committed JSON equals what
this module generates.

GX 1.24 cannot validate DuckDB through SQL (see STACK_NOTES.md), so the suites run
on pandas frames that `ingest.gate.runner` reads from DuckDB; a suite's `meta`
tells the runner where its rows come from. Whatever follows the data is a run-time
expectation parameter (ingest.gate.parameters): `mission_start` and `now` for times,
the countries' bounds for coordinates, `vocab_<name>` for codes.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from ingest.gate.config import GateConfig
from ingest.gate.marts import DBT_CHECKED, vocab_parameter
from ingest.settings import Settings
from ingest.warehouse.sharing import MartSpec, published_marts

DATASOURCE = "warehouse"
BATCH_DEFINITION = "batch"
CHECKPOINT = "gate"
RECONCILIATION = "reconciliation"
ROW_COUNTS = "row_counts"
NAMESPACE = uuid.UUID("5b0f3a52-8c55-4c36-9f0e-6a1f1e0d5c11")
MANAGED = ("great_expectations.yml", "expectations", "validation_definitions", "checkpoints")
NOW = {"$PARAMETER": "now"}
MISSION_START = {"$PARAMETER": "mission_start"}

# The reconciliation frame (ingest.gate.runner.RECONCILIATION_SQL), one row per feed
# that publishes (held-back feeds are reported, not checked): every column counts
# something that must be zero.
RECONCILIATION_CHECKS = {
    "events_unaccounted": "committed events neither behind a fact nor in a retracted or "
    "excluded record",
    "fact_events_not_committed": "events named by a fact's lineage that the log does not hold",
    "fact_events_also_removed": "events behind a fact that also belong to a retracted or "
    "excluded record",
    "load_counts_unbalanced": "records read - appended - duplicates - quarantined, over every load",
    "appended_not_committed": "events the loads appended - events in the committed log",
}


# What a mart suite may expect: each about one row at a time. The runner splits a mart
# into batches however it reads it, and carries over the rows equal to ones that passed
# (ingest.gate.carry); an expectation across rows (unique, a mean) would need the whole.
ROW_LEVEL = frozenset(
    {
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_null",
    }
)


def _expectations_for(spec: MartSpec) -> list[Any]:
    """What dbt does not check: times within the mission, points within the country and
    codes within vocabularies read at run time. Not-null, unique, accepted values and a
    code's relationships test to its vocabulary's model or seed (DBT_CHECKED) are the
    mart's dbt tests, which a build must pass before its warehouse is used."""
    import great_expectations.expectations as gxe

    out: list[Any] = []
    for column in (*spec.times, *spec.dates):
        out.append(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=MISSION_START, max_value=NOW)
        )
    if spec.coordinates:
        lat, lon = spec.coordinates
        for column, axis in ((lat, "lat"), (lon, "lon")):
            out.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column,
                    min_value={"$PARAMETER": f"min_{axis}"},
                    max_value={"$PARAMETER": f"max_{axis}"},
                )
            )
    for column, vocabulary in spec.vocab.items():
        if vocabulary in DBT_CHECKED and spec.related.get(column) == DBT_CHECKED[vocabulary]:
            continue
        out.append(
            gxe.ExpectColumnValuesToBeInSet(column=column, value_set=vocab_parameter(vocabulary))
        )
    return out


def suite_definitions(config: GateConfig) -> list[tuple[str, dict[str, Any], list[Any]]]:
    """(suite name, meta, expectations) for every suite of the gate."""
    import great_expectations.expectations as gxe

    suites: list[tuple[str, dict[str, Any], list[Any]]] = []
    for spec in published_marts():
        meta = {
            "kind": "mart",
            "relation": spec.relation,
            "key": spec.key,
            "dates": list(spec.dates),
        }
        suites.append((spec.name, meta, _expectations_for(spec)))
    reconciliation = []
    for column, meaning in RECONCILIATION_CHECKS.items():
        reconciliation.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=0, max_value=0, meta={"notes": meaning}
            )
        )
    suites.append((RECONCILIATION, {"kind": RECONCILIATION}, reconciliation))
    row_counts = [
        gxe.ExpectColumnValuesToNotBeNull(column="rows"),
        gxe.ExpectColumnValuesToBeBetween(
            column="change_ratio", min_value=config.min_ratio, max_value=config.max_ratio
        ),
    ]
    suites.append((ROW_COUNTS, {"kind": ROW_COUNTS}, row_counts))
    return suites


def _generate(tmp: Path, config: GateConfig) -> Path:
    """Build the context with GX in `tmp`; returns its gx directory."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(tmp))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.variables.save()
    source = context.data_sources.add_pandas(DATASOURCE)
    definitions = []
    for name, meta, expectations in suite_definitions(config):
        asset = source.add_dataframe_asset(name=name)
        batch = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
        suite = context.suites.add(gx.ExpectationSuite(name=name, meta={"peaceops": meta}))
        for expectation in expectations:
            suite.add_expectation(expectation)
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
        )
    context.checkpoints.add(
        gx.Checkpoint(
            name=CHECKPOINT,
            validation_definitions=definitions,
            actions=[],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )
    return Path(context.root_directory)


def _stable_ids(gx_dir: Path) -> dict[str, str]:
    """Map every id GX generated to a uuid5 of what it names."""
    import yaml

    def stable(label: str) -> str:
        return str(uuid.uuid5(NAMESPACE, label))

    mapping: dict[str, str] = {}
    config = yaml.safe_load((gx_dir / "great_expectations.yml").read_text())
    mapping[config["data_context_id"]] = stable("data_context")
    source = config["fluent_datasources"][DATASOURCE]
    mapping[source["id"]] = stable(f"datasource:{DATASOURCE}")
    for asset_name, asset in source["assets"].items():
        mapping[asset["id"]] = stable(f"asset:{asset_name}")
        for bd_name, bd in asset["batch_definitions"].items():
            mapping[bd["id"]] = stable(f"batch_definition:{asset_name}:{bd_name}")
    for path in sorted((gx_dir / "expectations").glob("*.json")):
        suite = json.loads(path.read_text())
        mapping[suite["id"]] = stable(f"suite:{suite['name']}")
        for i, expectation in enumerate(suite["expectations"]):
            label = f"expectation:{suite['name']}:{i}:{expectation['type']}"
            mapping[expectation["id"]] = stable(label)
    for kind in ("validation_definitions", "checkpoints"):
        for path in sorted((gx_dir / kind).glob("*.json")):
            data = json.loads(path.read_text())
            mapping[data["id"]] = stable(f"{kind}:{data['name']}")
    return mapping


def generate(target: Path, config: GateConfig | None = None) -> list[Path]:
    """(Re)write the managed files of the GX context in `target`; returns them."""
    config = config or Settings.resolve().gate
    with tempfile.TemporaryDirectory(prefix="peaceops-gx-") as tmp:
        gx_dir = _generate(Path(tmp), config)
        mapping = _stable_ids(gx_dir)
        pattern = re.compile("|".join(re.escape(k) for k in mapping))
        files: dict[str, str] = {}
        yml = (gx_dir / "great_expectations.yml").read_text()
        yml = re.sub(r"(?m)^analytics_enabled:.*$", "analytics_enabled: false", yml)
        files["great_expectations.yml"] = yml
        for kind in ("expectations", "validation_definitions", "checkpoints"):
            for path in sorted((gx_dir / kind).glob("*.json")):
                files[f"{kind}/{path.name}"] = path.read_text()
        files = {name: pattern.sub(lambda m: mapping[m.group(0)], t) for name, t in files.items()}
    target.mkdir(parents=True, exist_ok=True)
    for kind in ("expectations", "validation_definitions", "checkpoints"):
        shutil.rmtree(target / kind, ignore_errors=True)
    written = []
    for name, text in sorted(files.items()):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """`python -m ingest.gate.suites [TARGET]`: regenerate the committed GX context."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Settings.resolve().expectations_dir
    for path in generate(target):
        print(path)


if __name__ == "__main__":
    main()
