"""The event envelope, computed in SQL over a whole decoded batch.

`envelope_sql` is pure: it turns a feed's mapping and the batch's columns into
one DuckDB SELECT that yields every envelope column of DESIGN.md plus a
`quarantine_reason`/`quarantine_message` pair for records that cannot become
events. Nothing here loops over records in Python.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.registry import Feed, TimeField

POS = "_pos"
# A batch of several payloads names each record's payload (its sha256) in this column.
SOURCE = "_source"

EN_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
FR_MONTHS = ["JAN", "FEV", "MAR", "AVR", "MAI", "JUN", "JUL", "AOU", "SEP", "OCT", "NOV", "DEC"]
# Military time-zone letters: A..M (no J) are UTC+1..+12, N..Y are UTC-1..-12, Z is UTC.
EAST_ZONES = "ABCDEFGHIKLM"
WEST_ZONES = "NOPQRSTUVWXY"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def first_present(names: Sequence[str], columns: Sequence[str]) -> str:
    """The first non-blank value among the alternative columns that exist."""
    present = [f"nullif(trim({ident(n)}), '')" for n in names if n in columns]
    if not present:
        return "CAST(NULL AS VARCHAR)"
    return present[0] if len(present) == 1 else f"coalesce({', '.join(present)})"


def _time_text(tf: TimeField, columns: Sequence[str]) -> str:
    present = [f"nullif(trim({ident(n)}), '')" for n in tf.fields if n in columns]
    if len(present) != len(tf.fields):
        return "CAST(NULL AS VARCHAR)"
    return present[0] if len(present) == 1 else f"concat_ws(' ', {', '.join(present)})"


def dtg_to_utc(text: str) -> str:
    """SQL for a military DTG (DDHHMM<zone>MONYY) to a UTC TIMESTAMPTZ, NULL if unreadable."""
    g = f"upper(replace({text}, ' ', ''))"
    pattern = literal(r"^(\d{2})(\d{2})(\d{2})([A-Z])([A-Z]{3})(\d{2})$")
    part = lambda i: f"regexp_extract({g}, {pattern}, {i})"  # noqa: E731
    month = (
        f"coalesce(nullif(list_position({_list(EN_MONTHS)}, {part(5)}), 0), "
        f"nullif(list_position({_list(FR_MONTHS)}, {part(5)}), 0))"
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
    return f"timezone('UTC', ({local} - to_hours({offset})))"


def time_to_utc(tf: TimeField, columns: Sequence[str]) -> str:
    """SQL turning the mapped time field(s) into a TIMESTAMPTZ, NULL when unreadable."""
    text = _time_text(tf, columns)
    if tf.format == "iso":
        # The session runs in UTC, so an ISO time without an offset is taken as UTC.
        return f"try_cast({text} AS TIMESTAMPTZ)"
    if tf.format == "dtg":
        return dtg_to_utc(text)
    parsed = f"try_strptime({text}, {_list(tf.patterns)})"
    if tf.tz:
        return f"timezone({literal(tf.tz)}, {parsed})"
    return f"timezone('UTC', {parsed})"


def envelope_sql(
    feed: Feed,
    columns: Sequence[str],
    relation: str,
    *,
    source_sha256: str | None,
    load_id: str,
) -> str:
    """One SELECT over `relation` (the decoded batch) giving the envelope.

    `source_sha256` is the payload the batch came from; None when the batch holds
    several payloads and names each record's in its `_source` column.

    `recorded_at` is left to the caller's `$recorded_at` parameter so the same
    SQL serves a replay with a simulated clock.
    """
    m = feed.mapping
    payload_cols = sorted(c for c in columns if c not in (POS, SOURCE))
    payload = (
        "to_json(struct_pack(" + ", ".join(f"{ident(c)} := {ident(c)}" for c in payload_cols) + "))"
        if payload_cols
        else "'{}'"
    )
    # The content hash sees only the fields that have a value, in name order: the same
    # record sent in two files whose other records have other columns (JSON records
    # with optional keys) or a different column order has one content, hence one id.
    # concat_ws skips the NULL pairs; cheaper by far than a JSON object without nulls.
    # The content digest is md5 (a third cheaper than sha256 over the whole record, and
    # only an input to the sha256 of the id, which is what must not collide by chance).
    content = (
        "concat_ws(chr(31), "
        + ", ".join(f"{literal(c)} || chr(30) || {ident(c)}" for c in payload_cols)
        + ")"
        if payload_cols
        else "''"
    )
    record_id = first_present(m.record_id, columns)
    supersedes = first_present(m.supersedes, columns) if m.supersedes else "CAST(NULL AS VARCHAR)"
    retracted = "false"
    if m.retraction and m.retraction.field in columns:
        values = _list([v.lower() for v in m.retraction.values])
        retracted = (
            f"coalesce(list_contains({values}, lower(trim({ident(m.retraction.field)}))), false)"
        )
    default_rel = literal(feed.releasability)
    releasability = default_rel
    if m.releasability_field and m.releasability_field in columns:
        value = f"lower(nullif(trim({ident(m.releasability_field)}), ''))"
        # An unknown marking is treated as the strictest: never publish what we cannot read.
        releasability = (
            f"CASE WHEN {value} IS NULL THEN {default_rel} "
            f"WHEN {value} IN ('public', 'partners', 'mission', 'restricted') THEN {value} "
            f"ELSE 'restricted' END"
        )
    time_text = _time_text(m.occurred_at, columns)
    types = m.event_types
    pos = ident(POS) if POS in columns else "CAST(NULL AS VARCHAR)"
    source = literal(source_sha256) if source_sha256 is not None else ident(SOURCE)
    return f"""
    SELECT
        substr(sha256({literal(feed.id)} || chr(31) || record_id || chr(31) || md5(content)), 1, 32)
            AS event_id,
        {literal(feed.id)} AS feed_id,
        {literal(feed.agency)} AS agency_id,
        CASE WHEN is_retraction THEN {literal(types["retracted"])}
             WHEN supersedes IS NOT NULL THEN {literal(types["corrected"])}
             ELSE {literal(types["reported"])} END AS event_type,
        record_id,
        supersedes,
        occurred_at,
        CAST($recorded_at AS TIMESTAMPTZ) AS recorded_at,
        releasability,
        CAST({feed.schema_version} AS INTEGER) AS schema_version,
        payload,
        source || '#' || coalesce(pos, '') AS source_ref,
        {literal(load_id)} AS load_id,
        CASE WHEN record_id IS NULL THEN 'missing_record_id'
             WHEN occurred_at IS NULL THEN 'unreadable_time' END AS quarantine_reason,
        CASE WHEN record_id IS NULL THEN 'no value in record id column(s) {_msg(m.record_id)}'
             WHEN occurred_at IS NULL THEN 'cannot read time ' || coalesce(
                 '''' || time_text || '''', '(empty)') || ' as {m.occurred_at.format}'
             END AS quarantine_message
    FROM (
        SELECT
            {record_id} AS record_id,
            {supersedes} AS supersedes,
            {retracted} AS is_retraction,
            {time_to_utc(m.occurred_at, columns)} AS occurred_at,
            {time_text} AS time_text,
            {releasability} AS releasability,
            {payload} AS payload,
            {content} AS content,
            {pos} AS pos,
            {source} AS source
        FROM {relation}
    )
    """


def _msg(names: Sequence[str]) -> str:
    return ", ".join(names).replace("'", "''")
