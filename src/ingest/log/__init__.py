"""The event log: append-only Parquet loads, each committed by one record (DESIGN.md)."""
