"""The event envelope, computed in SQL over a whole decoded batch.

`envelope_sql` is pure: it turns a feed's contract and the batch's columns into
one DuckDB SELECT that yields every envelope column of DESIGN.md plus a
`quarantine_reason`/`quarantine_message` pair for records that cannot become
events. The fields are read by `ingest.feeds.contract`, which the warehouse's staging
reads records with too. Nothing here loops over records in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ingest.feeds.contract import (
    Columns,
    first_present,
    is_retraction,
    record_id,
    releasability,
    time_sql,
)
from ingest.feeds.decode.model import POS
from ingest.feeds.registry import Feed, RecordKey
from ingest.log.eventlog import SOURCE
from ingest.sql import ident, literal

INTERNAL = (POS, SOURCE)


def envelope_sql(
    feed: Feed,
    columns: Sequence[str],
    relation: str,
    *,
    source_sha256: str | None,
    load_id: str,
    default_time: datetime | None = None,
) -> str:
    """One SELECT over `relation` (the decoded batch) giving the envelope.

    `source_sha256` is the payload the batch came from; None when the batch holds
    several payloads and names each record's in its SOURCE column. `default_time` is
    the time of records with none, when the feed's contract gives one (a default, or
    the date in the payload's file name).

    `recorded_at` is left to the caller's `$recorded_at` parameter so the same
    SQL serves a replay with a simulated clock.
    """
    m = feed.mapping
    reader = Columns([c for c in columns if c not in INTERNAL])
    payload_cols = sorted(reader.names)
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
    supersedes = first_present(reader, m.supersedes) if m.supersedes else "CAST(NULL AS VARCHAR)"
    occurred = time_sql(reader, m.occurred_at, default_time)
    types = feed.event_types
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
        CASE WHEN record_id IS NULL THEN 'no value in record id column(s) {_msg(_id_columns(feed))}'
             WHEN occurred_at IS NULL THEN 'cannot read time ' || coalesce(
                 '''' || time_text || '''', '(empty)') || ' as {_msg([_time_format(feed)])}'
             END AS quarantine_message
    FROM (
        SELECT
            {record_id(reader, feed, content)} AS record_id,
            {supersedes} AS supersedes,
            {is_retraction(reader, feed)} AS is_retraction,
            {occurred.at} AS occurred_at,
            {occurred.text} AS time_text,
            {releasability(reader, feed)} AS releasability,
            {payload} AS payload,
            {content} AS content,
            {pos} AS pos,
            {source} AS source
        FROM {relation}
    )
    """


def _id_columns(feed: Feed) -> list[str]:
    key = feed.mapping.record_id
    if isinstance(key, RecordKey):
        return list(key.all)
    return ["(content)"] if key == "content" else list(key)


def _time_format(feed: Feed) -> str:
    spec = feed.mapping.occurred_at
    if spec.patterns:
        return f"{spec.format} {' or '.join(spec.patterns)}"
    return spec.format


def _msg(names: Sequence[str]) -> str:
    return ", ".join(names).replace("'", "''")
