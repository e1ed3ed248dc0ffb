"""The simulated UN mission HTTP API that `http_json` feeds pull from.

Stdlib only: a `ThreadingHTTPServer` in a daemon thread. See `server.py` for the
endpoints and `Faults` for the misbehaviour it can be told to show.
"""

from __future__ import annotations

from ingest.lab.feedserver.server import DEFAULT_CREDENTIALS, MAX_LIMIT, Faults, Server, serve

__all__ = ["DEFAULT_CREDENTIALS", "MAX_LIMIT", "Faults", "Server", "serve"]
