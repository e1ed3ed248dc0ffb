"""Feeds: what each agency sends and how it becomes events — the registry (feeds.yaml),
the contract compiled to SQL, connectors, decoders, landing and the ingest pipeline."""
