"""The curated mutants of `python -m bench.mutation`: realistic bugs in the core rules.

Each names the file, the exact text it changes and the replacement (the text must occur
once, or the run stops: re-aim a mutant when its rule moves), the bug it models, and
the tests that must catch it, as pytest arguments: only in-process tests (see
bench.mutation), as narrow as still kills it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    edits: tuple[tuple[str, str], ...]  # (original text, replacement), applied in order
    bug: str
    tests: tuple[str, ...]
    equivalent: str | None = None  # why it cannot be killed, when it cannot
    area: str = ""  # set from AREAS


def mutant(name: str, path: str, original: str, replacement: str, bug: str, *tests: str) -> Mutant:
    """A mutant of one edit."""
    return Mutant(name, path, ((original, replacement),), bug, tests)


# Test selections shared by several mutants.
RULES = ("tests/warehouse/test_rules.py",)
MACROS = ("tests/warehouse/test_macros.py",)
LOG = ("tests/eventlog/test_eventlog.py",)
COUNTS = ("tests/eventlog/test_counts.py",)
DURABILITY = ("tests/eventlog/test_durability.py",)
ENVELOPE = ("tests/unit/test_contract_envelope.py",)
TIMES = ("tests/unit/test_contract_times.py",)
CSV = ("tests/decode/test_csv.py",)
HXL = ("tests/decode/test_hxl.py",)
SWITCH = ("tests/publish/test_switch.py",)
PUBLISH = ("tests/publish/test_publish.py", "-k", "good_run or failed_gate")
AUDIENCES = ("tests/publish/test_publish.py", "-k", "nothing_restricted or free_text")
GATE = ("tests/gate/test_gate.py", "-k", "bad_rows or unstaged or raw_feed")
CARRY = ("tests/gate/test_gate.py", "-k", "carries_over")

STAGE = "dbt_project/models/intermediate"
MARTS = "dbt_project/models/marts"
DECONFLICTION = f"{MARTS}/coordination/coordination_deconfliction.sql"
RESOLUTION = f"{STAGE}/int_incidents_resolved.sql"
CLUSTERS = "dbt_project/macros/resolve.sql"
# which of two reports with a point looks for the other (in its own cell, the smaller
# agency's; across cells, the one whose offset to the other is in the searched half)
PAIR_ORDER = "if(a.is_own_cell, a.agency_id < b.agency_id, a.agency_id != b.agency_id)"
GRID = ("tests/warehouse/test_warehouse.py",)  # (test_the_grid_finds_every_near_pair_once)

AREAS: dict[str, list[Mutant]] = {
    "releasability": [
        mutant(
            "strictest-releasability-min",
            "dbt_project/macros/releasability.sql",
            "[max({{ releasability_rank(column) }})]",
            "[min({{ releasability_rank(column) }})]",
            "a merged row takes its least strict source's level",
            *MACROS,
        ),
        mutant(
            "strictest-releasability-min-in-marts",
            "dbt_project/macros/releasability.sql",
            "[max({{ releasability_rank(column) }})]",
            "[min({{ releasability_rank(column) }})]",
            "as above, seen in the built marts (duplication, coverage gaps, timeliness)",
            *RULES,
        ),
        mutant(
            "unknown-level-ranks-public",
            "dbt_project/macros/releasability.sql",
            "{{ column }}), 0), 4)",
            "{{ column }}), 0), 1)",
            "an unknown or missing level ranks as public",
            *MACROS,
        ),
        mutant(
            "folded-record-least-strict",
            "dbt_project/macros/fold.sql",
            "max(releasability_rank) over history",
            "min(releasability_rank) over history",
            "a corrected record takes its least strict version's level",
            *RULES,
        ),
        mutant(
            "unified-incident-least-strict",
            f"{MARTS}/fct_incidents.sql",
            "{{ releasability_levels() }}[max(releasability_rank)]",
            "{{ releasability_levels() }}[min(releasability_rank)]",
            "an incident several agencies reported takes the least strict report's level",
            *RULES,
        ),
        mutant(
            "pair-least-strict",
            DECONFLICTION,
            "{{ releasability_levels() }}[greatest(",
            "{{ releasability_levels() }}[least(",
            "a patrol-delivery pair takes the less strict side's level",
            *RULES,
        ),
        mutant(
            "classification-fails-open",
            "src/ingest/feeds/contract.py",
            "f\"ELSE 'restricted' END\"",
            "f\"ELSE 'public' END\"",
            "an unknown marking makes a record public",
            *ENVELOPE,
        ),
        mutant(
            "missing-classification-column-open",
            "src/ingest/feeds/contract.py",
            "        return \"'restricted'\"\n",
            "        return literal(feed.releasability)\n",
            "a file without its marking column takes the feed's default level",
            *ENVELOPE,
        ),
        mutant(
            "partners-see-mission",
            "src/ingest/releasability.py",
            "level: RELEASABILITY[: i + 1]",
            "level: RELEASABILITY[: i + 2]",
            "each audience gets the next level's rows (partners get mission rows)",
            *AUDIENCES,
        ),
        mutant(
            "free-text-shared-below-mission",
            "src/ingest/warehouse/sharing.py",
            "if c not in self.mission_only and not FREE_TEXT.search(c)]",
            "if c not in self.mission_only]",
            "free-text columns not declared mission-only reach partners and public",
            *AUDIENCES,
        ),
        mutant(
            "releasability-filter-dropped",
            "src/ingest/publish/writer.py",
            'where.append(f"releasability IN ({levels})")',
            'where.append("releasability IS NOT NULL")',
            "an audience gets rows of every level",
            *PUBLISH,
        ),
    ],
    "coordination thresholds": [
        mutant(
            "deconfliction-km-doubled",
            DECONFLICTION,
            "    <= {{ var('deconfliction_km') }}\n{%- endset %}",
            "    <= 2 * {{ var('deconfliction_km') }}\n{%- endset %}",
            "deconfliction pairs up to twice the distance",
            *RULES,
        ),
        mutant(
            "deconfliction-hours-doubled",
            DECONFLICTION,
            "patrols.started_at - to_hours({{ var('deconfliction_hours') }})",
            "patrols.started_at - to_hours(2 * {{ var('deconfliction_hours') }})",
            "deliveries up to twice the hours before a patrol pair with it",
            *RULES,
        ),
        mutant(
            "deconfliction-day-not-widened",
            DECONFLICTION,
            "if(fct_aid_deliveries.time_precision = 'day', interval 1 day, interval 0 second)",
            "interval 0 second",
            "a day-precision delivery counts as at midnight, not any time that day",
            *RULES,
        ),
        mutant(
            "coverage-gap-days-doubled",
            f"{MARTS}/coordination/coordination_coverage_gaps.sql",
            "next_delivered_on > occurred_on + to_days({{ var('coverage_gap_days') }})",
            "next_delivered_on > occurred_on + to_days(2 * {{ var('coverage_gap_days') }})",
            "aid up to 28 days after an incident covers it",
            *RULES,
        ),
        mutant(
            "coverage-earlier-aid-covers",
            f"{MARTS}/coordination/coordination_coverage_gaps.sql",
            "and incidents.occurred_on <= delivery_areas.delivered_on",
            "and incidents.occurred_on >= delivery_areas.delivered_on",
            "aid delivered before an incident covers it",
            *RULES,
        ),
        mutant(
            "duplication-of-one-organisation",
            f"{MARTS}/coordination/coordination_duplication.sql",
            "where organisation_count >= 2",
            "where organisation_count >= 1",
            "one organisation alone is reported as duplication",
            *RULES,
        ),
    ],
    "resolution": [
        mutant(
            "resolution-max-cost-doubled",
            RESOLUTION,
            "and cost <= {{ var('resolution_max_cost') }}",
            "and cost <= 2 * {{ var('resolution_max_cost') }}",
            "reports twice as unlike as the limit are one incident",
            *RULES,
        ),
        mutant(
            "resolution-time-scale-doubled",
            RESOLUTION,
            "pow(hours_apart / {{ var('resolution_time_scale_hours') }}, 2)",
            "pow(hours_apart / (2 * {{ var('resolution_time_scale_hours') }}), 2)",
            "reports twice as far apart in time cost what the limit allows",
            *RULES,
        ),
        mutant(
            "resolution-day-not-widened",
            RESOLUTION,
            "if(current_reports.time_precision = 'day', interval 1 day, interval 0 second)",
            "if(current_reports.time_precision = 'day', interval 0 day, interval 0 second)",
            "a day-precision report counts as at midnight, not any time that day",
            *RULES,
        ),
        mutant(
            "resolution-pairs-both-ways",
            RESOLUTION,
            PAIR_ORDER,
            "a.agency_id != b.agency_id",
            "each pair of reports in one cell is a candidate twice, once each way",
            *RULES,
            *GRID,
        ),
        Mutant(
            "resolution-same-agency-or-self",
            RESOLUTION,
            ((PAIR_ORDER, "if(a.is_own_cell, a.agency_id <= b.agency_id, true)"),),
            "reports of one agency, and each report with itself, are candidate pairs",
            (*RULES, *GRID),
        ),
        mutant(
            "resolution-single-link",
            CLUSTERS,
            "linked.pair_count = size_a.report_count * size_b.report_count",
            "linked.pair_count >= 1",
            "clusters merge through one alike pair: matches chain across agencies",
            *RULES,
        ),
        mutant(
            "resolution-not-reciprocal",
            CLUSTERS,
            "on nearest.partner = back.cluster_number and back.partner = nearest.cluster_number",
            "on nearest.partner = back.cluster_number",
            "a cluster merges with its cheapest partner even when that one prefers another",
            *RULES,
        ),
    ],
    "folding": [
        mutant(
            "fold-keeps-first-event",
            "dbt_project/macros/fold.sql",
            "where event_rank = event_count",
            "where event_rank = 1",
            "a record's state is what the hub learnt first, not last",
            *RULES,
        ),
        mutant(
            "fold-ignores-chain-depth",
            "dbt_project/macros/fold.sql",
            "known_at, recorded_at, load_id, chain_depth, event_id",
            "known_at, recorded_at, load_id, event_id",
            "a correction loaded with its target may lose to it: the order forgets chain depth",
            *RULES,
        ),
        mutant(
            "chain-root-is-self",
            f"{STAGE}/int_events_keyed.sql",
            "max_by(current_id, depth) as root_id",
            "min_by(current_id, depth) as root_id",
            "a correction becomes a record of its own",
            *RULES,
        ),
        mutant(
            "chain-one-hop",
            f"{STAGE}/int_events_keyed.sql",
            "where steps.depth < 32",
            "where steps.depth < 1",
            "a correction of a correction is not followed to its root",
            *RULES,
        ),
        mutant(
            "delivery-retraction-ignored",
            CLUSTERS,
            "where not is_retracted and not is_excluded",
            "where not is_excluded",
            "a cancelled delivery (a retracted incident) stays in the facts: resolution reads it",
            *RULES,
        ),
        mutant(
            "patrol-retraction-ignored",
            f"{MARTS}/fct_patrols.sql",
            "where not is_retracted and not is_excluded",
            "where not is_excluded",
            "a cancelled patrol stays in the facts",
            *RULES,
        ),
        mutant(
            "build-as-of-exclusive",
            "dbt_project/macros/as_of.sql",
            "known_at <= {{ as_of() }} and",
            "known_at < {{ as_of() }} and",
            "a build as of a load's own time leaves that load out",
            *RULES,
            "tests/eventlog/test_as_of_drift.py",
        ),
    ],
    "event log": [
        mutant(
            "as-of-time-exclusive",
            "src/ingest/log/eventlog.py",
            'return "true" if moment is None else f"{loads}known_at <= {sql_time(moment)}"',
            'return "true" if moment is None else f"{loads}known_at < {sql_time(moment)}"',
            "the log as of a load's own time leaves that load out",
            *LOG,
        ),
        mutant(
            "as-of-load-exclusive",
            "src/ingest/log/eventlog.py",
            "commits = [c for c in commits if c.seq is not None and c.seq <= last]",
            "commits = [c for c in commits if c.seq is not None and c.seq < last]",
            "the log as of a load leaves that load out",
            *LOG,
        ),
        mutant(
            "retired-known-at-replay",
            "src/ingest/log/eventlog.py",
            "{loads}retired_at > {sql_time(moment)})",
            "{loads}retired_at >= {sql_time(moment)})",
            "the log as of a replay's own time still holds what it retired",
            *LOG,
        ),
        mutant(
            "retired-still-live",
            "src/ingest/log/eventlog.py",
            'return f"{loads}retired_at IS NULL"',
            'return "true"',
            "events a replay retired are still read as live",
            *LOG,
        ),
        mutant(
            "compacted-files-still-live",
            "src/ingest/log/eventlog.py",
            "                files.pop(f, None)\n",
            "                files.get(f)\n",
            "files a compaction replaced are read beside their replacement",
            *LOG,
        ),
        mutant(
            "committed-ids-not-skipped",
            "src/ingest/feeds/decide.py",
            "WHERE {COMMITTED_IDS}.event_id = envelope.event_id",
            "WHERE {COMMITTED_IDS}.event_id = envelope.record_id",
            "events already committed are appended again",
            *LOG,
        ),
        mutant(
            "repeats-keep-the-last",
            "src/ingest/feeds/decide.py",
            "PARTITION BY event_id ORDER BY source_ref)",
            "PARTITION BY event_id ORDER BY source_ref DESC)",
            "of an id a batch holds twice, the last record becomes the event",
            "tests/unit/test_decide.py",
        ),
        mutant(
            "repeats-in-a-batch-kept",
            "src/ingest/log/eventlog.py",
            "if written and self._repeats(target):",
            "if written and self._repeats(target) > 1:",
            "a record sent twice in one file is appended twice",
            *LOG,
        ),
        mutant(
            "quarantine-only-load-dropped",
            "src/ingest/log/eventlog.py",
            "if not self.changed and not self.retires",
            "if not self.files and not self.retires",
            "a load of only bad records commits nothing: its quarantine is lost",
            *COUNTS,
        ),
        mutant(
            "unbalanced-load-committed",
            "src/ingest/log/eventlog.py",
            'raise AssertionError(f"load {self.load_id} does not reconcile: {self.counts}")',
            'logger.warning("load %s does not reconcile: %s", self.load_id, self.counts)',
            "a load whose counts do not balance is committed with a warning",
            *LOG,
        ),
        mutant(
            "rejects-miscounted",
            "src/ingest/log/eventlog.py",
            "            counts.quarantined += rejects.num_rows\n",
            "            counts.quarantined += rejects.num_rows - 1\n",
            "decoder rejects counted one short (the difference passes for a duplicate)",
            *COUNTS,
        ),
        mutant(
            "rejects-miscounted-per-payload",
            "src/ingest/log/eventlog.py",
            "                by_source[sha].read += n\n                by_source[sha].quarantined += n\n",
            "                by_source[sha].read += n\n",
            "a payload's decoder rejects are read but not quarantined (in a batch of several)",
            *COUNTS,
        ),
        mutant(
            "seq-not-taken",
            "src/ingest/log/eventlog.py",
            "                    seq += 1\n",
            "",
            "two commits take the same place in the log's order",
            "tests/eventlog/test_sequence.py",
        ),
        mutant(
            "checkpoint-trusts-replaced-records",
            "src/ingest/log/eventlog.py",
            "if entry is not None and entry.inode() == inode:",
            "if entry is not None:",
            "a record replaced since a checkpoint is read as the checkpoint has it",
            "tests/eventlog/test_checkpoint.py",
        ),
        mutant(
            "other-feeds-debris-cleaned",
            "src/ingest/log/eventlog.py",
            'if feed_of(p.name[1:].partition(".json.")[0]) == feed_id',
            'if feed_of(p.name[1:].partition(".json.")[0])',
            "a run deletes another feed's commit record being written",
            "tests/eventlog/test_leftovers.py",
        ),
        mutant(
            "feed-lock-shared",
            "src/ingest/durable.py",
            "fcntl.LOCK_EX | fcntl.LOCK_NB",
            "fcntl.LOCK_SH | fcntl.LOCK_NB",
            "two runs of one feed hold its lock together",
            "tests/eventlog/test_lock.py",
        ),
    ],
    "durability": [
        Mutant(
            "seal-after-commit",
            "src/ingest/log/eventlog.py",
            (
                ("        for f in self.files:\n            _seal(self.log.dir / f)\n", ""),
                (
                    "        self.log._write_commit(commit)\n        self.log._after_commit(commit)\n",
                    "        self.log._write_commit(commit)\n"
                    "        for f in self.files:\n"
                    "            _seal(self.log.dir / f)\n"
                    "        self.log._after_commit(commit)\n",
                ),
            ),
            "event files fsynced after the commit record names them",
            DURABILITY,
        ),
        mutant(
            "folders-not-fsynced",
            "src/ingest/log/eventlog.py",
            "        ):\n            fsync_dir(folder)\n",
            "        ):\n            pass\n",
            "the names of a load's files are not durable when its commit is",
            *DURABILITY,
        ),
        mutant(
            "commit-record-not-fsynced",
            "src/ingest/durable.py",
            "            fh.flush()\n            os.fsync(fh.fileno())\n",
            "            fh.flush()\n",
            "a commit record renamed into place before its bytes are on disk",
            *DURABILITY,
        ),
        mutant(
            "commits-folder-not-fsynced",
            "src/ingest/log/eventlog.py",
            "        fsync_dir(self.commits_dir)\n",
            "",
            "a commit's rename is not made durable",
            *DURABILITY,
        ),
        Mutant(
            "compaction-unlinks-first",
            "src/ingest/log/eventlog.py",
            (
                (
                    "            self._write_commit(commit)\n            for f in files:\n"
                    "                f.unlink()\n",
                    "            for f in files:\n                f.unlink()\n"
                    "            self._write_commit(commit)\n",
                ),
            ),
            "a compaction deletes the files it replaces before its commit",
            DURABILITY,
        ),
    ],
    "envelope and ids": [
        mutant(
            "event-id-without-feed",
            "src/ingest/feeds/envelope.py",
            "sha256({literal(feed.id)} || chr(31) || record_id",
            "sha256(record_id",
            "two feeds' records with one id get one event id",
            *LOG,
        ),
        mutant(
            "event-id-without-content",
            "src/ingest/feeds/envelope.py",
            "record_id || chr(31) || md5(content)",
            "record_id || chr(31) || md5(record_id)",
            "a changed record with its old id passes for a duplicate",
            *LOG,
        ),
        Mutant(
            "retraction-typed-as-correction",
            "src/ingest/feeds/envelope.py",
            (
                (
                    'CASE WHEN is_retraction THEN {literal(types["retracted"])}\n'
                    '             WHEN supersedes IS NOT NULL THEN {literal(types["corrected"])}',
                    'CASE WHEN supersedes IS NOT NULL THEN {literal(types["corrected"])}\n'
                    '             WHEN is_retraction THEN {literal(types["retracted"])}',
                ),
            ),
            "a retraction that names its target is typed a correction",
            LOG,
        ),
        mutant(
            "retraction-marking-case-sensitive",
            "src/ingest/feeds/contract.py",
            "list_contains({values}, lower({marked}))",
            "list_contains({values}, {marked})",
            "'Retracted' is not read as a retraction",
            *LOG,
        ),
        mutant(
            "blank-is-a-value",
            "src/ingest/feeds/contract.py",
            "f\"nullif(trim({column}), '')\"",
            'f"trim({column})"',
            "a blank record id is an id",
            *LOG,
        ),
    ],
    "time parsing": [
        mutant(
            "years-unbounded",
            "src/ingest/feeds/contract.py",
            "YEARS = (1900, 2200)",
            "YEARS = (1, 9999)",
            "'8/20/14' read with %Y is the year 14",
            *TIMES,
        ),
        mutant(
            "dtg-west-zones-east",
            "src/ingest/feeds/contract.py",
            "THEN -strpos('{WEST_ZONES}'",
            "THEN strpos('{WEST_ZONES}'",
            "a DTG in a western zone is shifted the wrong way",
            *TIMES,
        ),
        mutant(
            "dtg-offset-added",
            "src/ingest/feeds/contract.py",
            "({local} - to_hours({offset}))",
            "({local} + to_hours({offset}))",
            "a DTG's zone offset is added, not taken away",
            *TIMES,
        ),
        mutant(
            "dtg-french-months-missing",
            "src/ingest/feeds/contract.py",
            "nullif(list_position({sql_list(FR_MONTHS)}, {part(5)}), 0))",
            "nullif(list_position({sql_list(EN_MONTHS)}, {part(5)}), 0))",
            "French DTG months (FEV, AVR, MAI, AOU) are unreadable",
            *TIMES,
        ),
        mutant(
            "local-zone-ignored",
            "src/ingest/feeds/contract.py",
            "timezone({literal(spec.tz or 'UTC')}, {parsed})",
            "timezone('UTC', {parsed})",
            "local times are taken as UTC",
            *TIMES,
        ),
        mutant(
            "iso-year-alone-unreadable",
            "src/ingest/feeds/contract.py",
            "['%Y-%m', '%Y']",
            "['%Y-%m']",
            "an ISO year alone ('2021') is unreadable",
            *TIMES,
        ),
        mutant(
            "iso-clock-time-day-precision",
            "src/ingest/feeds/contract.py",
            "'\\\\d{{1,2}}:\\\\d{{2}}') THEN 'minute' ",
            "'\\\\d{{1,2}}:\\\\d{{2}}') THEN 'day' ",
            "an ISO time with a clock time has day precision",
            *TIMES,
        ),
    ],
    "decoders": [
        mutant(
            "ragged-row-dropped-silently",
            "src/ingest/feeds/decode/delimited.py",
            '        return "skip"\n',
            '        rejects.pop()\n        return "skip"\n',
            "a ragged CSV row is dropped without a quarantine row",
            *CSV,
        ),
        mutant(
            "bom-kept",
            "src/ingest/feeds/decode/text.py",
            "        return data[len(codecs.BOM_UTF8) :], enc",
            "        return data, enc",
            "a UTF-8 BOM leaks into the first column's name",
            *CSV,
        ),
        mutant(
            "declared-encoding-ignored",
            "src/ingest/feeds/decode/text.py",
            '    enc = encoding or detect_encoding(data)\n    if enc == "utf-8":',
            '    enc = detect_encoding(data)\n    if enc == "utf-8":',
            "a feed's declared encoding loses to the detector's guess",
            *CSV,
        ),
        mutant(
            "row-with-an-empty-cell-is-blank",
            "src/ingest/feeds/decode/delimited.py",
            "has_value = pc.or_(has_value",
            "has_value = pc.and_(has_value",
            "a row with any empty cell is skipped as blank",
            *CSV,
        ),
        mutant(
            "hashtag-row-any-cell",
            "src/ingest/feeds/decode/hxl.py",
            "if cells and all(is_hashtag(c) for c in cells):",
            "if cells and any(is_hashtag(c) for c in cells):",
            "a human header row with one hashtag is taken for the hashtag row",
            *HXL,
        ),
        mutant(
            "hxl-ragged-row-kept",
            "src/ingest/feeds/decode/hxl.py",
            "if len(row) > width and any(c.strip() for c in row[width:]):",
            "if len(row) > width + 1 and any(c.strip() for c in row[width:]):",
            "an HXL row with one value beyond the tagged columns is cut, not rejected",
            *HXL,
        ),
    ],
    "gate": [
        mutant(
            "changed-mart-keeps-its-pass",
            "src/ingest/gate/carry.py",
            "    if previous.content != current.content:\n",
            "    if previous.content != current.content and not previous.content:\n",
            "a mart whose checked columns changed keeps its last pass",
            *CARRY,
        ),
        mutant(
            "pass-never-expires",
            "src/ingest/gate/carry.py",
            "    if now - previous.whole_since >= timedelta(hours=recheck_hours):\n",
            "    if now - previous.whole_since >= timedelta(hours=recheck_hours) * 1000:\n",
            "a mart's pass is carried over past recheck_hours",
            *CARRY,
        ),
        mutant(
            "gate-checks-unchanged-rows-only",
            "src/ingest/gate/carry.py",
            'f"(SELECT * FROM {relation} WHERE hash({row}) NOT IN "',
            'f"(SELECT * FROM {relation} WHERE hash({row}) IN "',
            "of a changed mart the gate validates the rows that passed before, not the new ones",
            "tests/gate/test_carry_over.py",
            "-k",
            "bad_row",
        ),
        mutant(
            "lineage-orphans-uncounted",
            "src/ingest/gate/reconcile.py",
            "(SELECT count(*) FROM joined WHERE NOT is_committed)",
            "(SELECT 0)",
            "a fact naming an event the log does not hold passes the gate",
            "tests/gate/test_gate.py",
            "-k",
            "fact_naming",
        ),
        mutant(
            "spare-shared-with-the-warehouse-in-use",
            "src/ingest/warehouse/spare.py",
            "    if spare.stat().st_nlink != 1:\n",
            "    if spare.stat().st_nlink > 2:\n",
            "a build writes into a spare that is the warehouse in use (or a publish's pin)",
            "tests/warehouse/test_spare.py",
        ),
        mutant(
            "failed-expectation-not-tallied",
            "src/ingest/gate/runner.py",
            "        if not r.success:\n            self.success = False\n",
            "        if not r.success:\n            self.success = self.success\n",
            "a failed expectation does not fail the gate",
            *GATE,
        ),
        mutant(
            "retracted-events-unaccounted",
            "src/ingest/gate/reconcile.py",
            "FROM folded WHERE is_retracted OR is_excluded",
            "FROM folded WHERE is_excluded",
            "a retracted record's events count as unaccounted",
            *GATE,
        ),
        mutant(
            "unbalanced-loads-pass",
            "src/ingest/gate/reconcile.py",
            "sum(records_read - events_appended - duplicates - quarantined) AS unbalanced",
            "sum(records_read - events_appended - duplicates) AS unbalanced",
            "quarantined records are left out of the load balance",
            *GATE,
        ),
    ],
    "publish switch": [
        mutant(
            "switch-unlink-then-rename",
            "src/ingest/publish/writer.py",
            "    os.replace(link, base / CURRENT)\n",
            '    (base / "current").unlink(missing_ok=True)\n    os.rename(link, base / "current")\n',
            "current switched by unlinking, then renaming: a moment with no current",
            *SWITCH,
        ),
        mutant(
            "version-not-fsynced",
            "src/ingest/publish/writer.py",
            "        _fsync_tree(tmp)\n        final = base / version\n",
            "        final = base / version\n",
            "a version is renamed into place before its files are on disk",
            *SWITCH,
        ),
        mutant(
            "version-name-not-fsynced",
            "src/ingest/publish/writer.py",
            "        os.rename(tmp, final)\n        fsync_dir(base)\n",
            "        os.rename(tmp, final)\n",
            "current may name a version whose own name is not on disk yet",
            *SWITCH,
        ),
        mutant(
            "failed-gate-published",
            "src/ingest/publish/writer.py",
            "    if not gate.passed:\n",
            "    if not gate.passed and gate.failures:\n",
            "a gate that failed without a recorded failure publishes",
            *PUBLISH,
        ),
    ],
}

# each mutant tagged with its area, in the order above
MUTANTS: list[Mutant] = [replace(m, area=area) for area, ms in AREAS.items() for m in ms]
