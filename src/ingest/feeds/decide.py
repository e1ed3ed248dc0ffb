"""What of a batch the log stores: ingest's decision, as SQL over the batch's envelope.

`decide` is pure: it turns the SELECT of `ingest.feeds.envelope.envelope_sql` into the
log's `Decision`. A record becomes an event when it has no quarantine reason and the
log does not hold its event id yet (committed, or stored earlier in the same load); an
id a batch holds twice is one event, its first by source ref. A record with a
quarantine reason is quarantined; every other record is a duplicate.
"""

from __future__ import annotations

from ingest.log.eventlog import COMMITTED_IDS, WRITTEN, Decision

# Within a batch, the first of an id's records by source ref.
FIRST = (
    f"SELECT * FROM {WRITTEN} "
    "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY source_ref) = 1"
)


def decide(envelope: str) -> Decision:
    """The events and the quarantine of the batch whose envelope `envelope` computes
    (the SELECT of envelope_sql, with `quarantine_reason` and `quarantine_message`)."""
    events = f"""
    SELECT * FROM ({envelope}) AS envelope
    WHERE quarantine_reason IS NULL
      -- NOT EXISTS, not NOT IN: ids are never null, and the anti join can then hash
      -- the small batch instead of every committed id (NOT IN rebuilt a table of the
      -- whole feed for each file)
      AND NOT EXISTS (
          SELECT 1 FROM {COMMITTED_IDS} WHERE {COMMITTED_IDS}.event_id = envelope.event_id
      )
    """
    quarantine = f"""
    SELECT load_id, source_ref, payload AS raw, quarantine_reason AS reason,
           quarantine_message AS message, CAST($recorded_at AS TIMESTAMPTZ) AS quarantined_at
    FROM ({envelope})
    WHERE quarantine_reason IS NOT NULL
    """
    return Decision(events=events, quarantine=quarantine, one_per_id=FIRST)
