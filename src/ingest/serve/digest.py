"""The quarantine digest: what each agency sent that could not become an event.

Written daily by the maintenance DAG to `reports/quarantine-<date>.md` (for people)
and `.json` (for tools), covering the loads committed in one window. Counts are
by agency, feed and reason, with a few examples each so that an agency's focal
point can find and fix the records without access to the hub.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.feeds.registry import Feed
from ingest.log.eventlog import EventLog, sql_list
from ingest.paths import private_dir, private_opener
from ingest.sessions import connect

EXAMPLES = 3
RAW_CHARS = 200


def reports_dir(root: Path) -> Path:
    return root / "reports"


def quarantine_digest(
    root: Path, feeds: list[Feed], start: datetime, end: datetime, examples: int = EXAMPLES
) -> dict[str, Any]:
    """Counts and examples of the records quarantined by loads committed in [start, end)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    eventlog = EventLog(root)
    commits = [
        c
        for c in eventlog.commits()
        if c.kind == "load" and start <= datetime.fromisoformat(c.committed_at) < end
    ]
    files = [eventlog.quarantine_dir / f for c in commits for f in c.quarantine_files]
    rows: list[tuple] = []
    if files:
        con = connect()
        try:
            rows = con.execute(
                f"""
                WITH q AS (
                    SELECT feed_id, reason, message, source_ref, left(raw, {RAW_CHARS}) AS raw,
                           count(*) OVER (PARTITION BY feed_id, reason) AS n,
                           row_number() OVER (PARTITION BY feed_id, reason ORDER BY source_ref) AS k
                    FROM read_parquet({sql_list(files)}, hive_partitioning = true)
                )
                SELECT feed_id, reason, n, message, source_ref, raw FROM q
                WHERE k <= {int(examples)} ORDER BY feed_id, reason, k
                """
            ).fetchall()
        finally:
            con.close()
    by_feed: dict[str, dict[str, dict[str, Any]]] = {}
    for feed_id, reason, n, message, source_ref, raw in rows:
        entry = by_feed.setdefault(feed_id, {}).setdefault(reason, {"count": n, "examples": []})
        entry["examples"].append({"source_ref": source_ref, "message": message, "raw": raw})
    loads = {c.feed_id: 0 for c in commits}
    for c in commits:
        loads[c.feed_id] += 1
    agencies: dict[str, dict[str, Any]] = {}
    known = {f.id for f in feeds}
    # Feeds no longer in the registry still show: their quarantine is still real.
    extra = sorted(set(by_feed) - known)
    for feed_id, agency in [(f.id, f.agency) for f in feeds] + [
        (x, x.split(".")[0]) for x in extra
    ]:
        reasons = by_feed.get(feed_id, {})
        a = agencies.setdefault(agency, {"total": 0, "feeds": {}})
        total = sum(r["count"] for r in reasons.values())
        a["total"] += total
        a["feeds"][feed_id] = {"loads": loads.get(feed_id, 0), "total": total, "reasons": reasons}
    return {
        "date": start.date().isoformat(),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(),
        "loads": len(commits),
        "total": sum(a["total"] for a in agencies.values()),
        "agencies": agencies,
    }


def render_markdown(digest: dict[str, Any]) -> str:
    """The digest as a Markdown page, one section per agency."""
    out = [
        f"# Quarantine digest {digest['date']}",
        "",
        f"Loads committed from {digest['start']} to {digest['end']}: {digest['loads']}; "
        f"records quarantined: {digest['total']}.",
        "",
    ]
    for agency, a in sorted(digest["agencies"].items()):
        out += [f"## {agency}: {a['total']} quarantined", ""]
        if not a["total"]:
            out += ["Nothing quarantined.", ""]
            continue
        out += ["| feed | reason | records |", "|---|---|---|"]
        for feed_id, f in a["feeds"].items():
            for reason, r in sorted(f["reasons"].items()):
                out.append(f"| `{feed_id}` | `{reason}` | {r['count']} |")
        out.append("")
        for feed_id, f in a["feeds"].items():
            for reason, r in sorted(f["reasons"].items()):
                out.append(f"Examples, `{feed_id}` / `{reason}`:")
                out.append("")
                for ex in r["examples"]:
                    raw = (ex["raw"] or "").replace("`", "'").replace("\n", " ")
                    out.append(f"- `{ex['source_ref']}`: {ex['message']} — `{raw}`")
                out.append("")
    return "\n".join(out)


def write_digest(root: Path, digest: dict[str, Any]) -> list[Path]:
    """Write `reports/quarantine-<date>.md` and `.json`; a rerun replaces them."""
    # The examples are quarantined records' raw text: as private as the quarantine.
    folder = private_dir(root, reports_dir(root))
    paths = []
    for suffix, text in (
        ("md", render_markdown(digest)),
        ("json", json.dumps(digest, indent=1, default=str)),
    ):
        path = folder / f"quarantine-{digest['date']}.{suffix}"
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "w", encoding="utf-8", opener=private_opener) as fh:
            fh.write(text)
        tmp.replace(path)
        paths.append(path)
    return paths
