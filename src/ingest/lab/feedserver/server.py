"""A small paged, token-protected JSON API over the simulator's records.

Endpoints:

- ``GET /health`` -> 200 ``ok``
- ``POST /auth/token`` with JSON ``{"client_id": ..., "client_secret": ...}`` ->
  ``{"access_token": ..., "expires_in": seconds}``; 401 ``{"error": "invalid_client"}``
- ``GET /api/v1/<feed_id>/records?since=<cursor>&limit=<n>`` with
  ``Authorization: Bearer <token>`` -> ``{"data": [...], "next_cursor": ..., "has_more": ...}``

Records come from ``<sim_dir>/api/<feed_id>/records.jsonl``, one JSON value a
line, in publication order. The cursor is the line offset as a string; clients
must treat it as opaque. A line that is not valid JSON is served as a JSON
*string* holding the line's text, so the record still reaches the client and its
decoder quarantines it (a record must be an object) instead of the server
silently dropping it. Blank lines are skipped.
"""

from __future__ import annotations

import json
import logging
import random
import re
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

DEFAULT_CREDENTIALS: dict[str, str] = {"demo-client": "demo-secret"}
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_RECORDS_PATH = re.compile(r"^/api/v1/([A-Za-z0-9_][A-Za-z0-9_.\-]*)/records/?$")


@dataclass(frozen=True)
class Faults:
    """Misbehaviour the server shows on record pages; everything is off by default.

    Counting is over authenticated record requests (``n`` = 1, 2, ...), so a run
    is deterministic for a given configuration and seed. At most one of
    throttle / error applies to a request, checked in that order; a slow page is
    still served after its sleep.
    """

    slow_every: int = 0  # every Nth page sleeps slow_seconds before answering
    slow_seconds: float = 0.0
    error_every: int = 0  # every Nth page answers HTTP 500
    error_rate: float = 0.0  # ... or this share of pages, drawn from Random(seed)
    throttle_every: int = 0  # every Nth page answers 429 with Retry-After
    retry_after: int = 1  # seconds, sent in Retry-After
    token_ttl: float = 3600.0  # seconds a token stays valid
    down_from: int = 0  # from the Nth page on, every page answers HTTP 500 (a server gone down)
    seed: int = 0

    @classmethod
    def realistic(cls, seed: int = 0) -> Faults:
        """A mix that exercises a client's retries without making a demo crawl."""
        return cls(
            slow_every=10,
            slow_seconds=1.5,
            error_rate=0.05,
            throttle_every=15,
            retry_after=1,
            token_ttl=60.0,
            seed=seed,
        )


@dataclass
class _State:
    sim_dir: Path
    faults: Faults
    credentials: dict[str, str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> monotonic expiry
    pages: int = 0
    rng: random.Random = field(default_factory=random.Random)
    stats: Counter[str] = field(default_factory=Counter)
    # feed_id -> ((mtime_ns, size), records): re-indexed only when the file changes
    cache: dict[str, tuple[tuple[int, int], RecordFile]] = field(default_factory=dict)
    # one reader indexes a file while concurrent requests for it wait
    load_lock: threading.Lock = field(default_factory=threading.Lock)

    def records(self, feed_id: str) -> RecordFile | None:
        path = self.sim_dir / "api" / feed_id / "records.jsonl"
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        key = (st.st_mtime_ns, st.st_size)
        with self.load_lock:
            hit = self.cache.get(feed_id)
            if hit and hit[0] == key:
                return hit[1]
            records = RecordFile(path)
            self.cache[feed_id] = (key, records)
        return records


class RecordFile:
    """The records of a JSON-lines file, one per non-blank line, parsed a page at a time.

    Only the lines' byte offsets are held: a feed of millions of records is served
    without parsing (or holding) all of them, so the first page comes back at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spans: list[tuple[int, int]] = []  # (start, end) of each non-blank line
        with path.open("rb") as fh:
            offset = 0
            for line in fh:
                if line.strip():
                    self.spans.append((offset, offset + len(line)))
                offset += len(line)

    def __len__(self) -> int:
        return len(self.spans)

    def page(self, start: int, stop: int) -> list[Any]:
        spans = self.spans[start:stop]
        if not spans:
            return []
        with self.path.open("rb") as fh:
            fh.seek(spans[0][0])
            block = fh.read(spans[-1][1] - spans[0][0])
        base = spans[0][0]
        return [_parse(block[a - base : b - base]) for a, b in spans]


def _parse(line: bytes) -> Any:
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # served as a JSON string: the client quarantines it


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive between pages; every answer sets Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "PeaceOpsFeedServer/1"
    timeout = 60  # drop idle keep-alive connections
    state: _State  # set on the per-server subclass

    # -- plumbing -------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), headers=headers)

    def _error(self, status: int, error: str, message: str, **headers: str) -> None:
        self._json(status, {"error": error, "message": message}, headers or None)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # -- routes ---------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            self._send(200, b"ok", "text/plain; charset=utf-8")
        elif m := _RECORDS_PATH.match(url.path):
            self._records(m.group(1), parse_qs(url.query))
        else:
            self._error(404, "not_found", f"no such endpoint: {url.path}")

    def do_POST(self) -> None:
        body = self._body()  # always read, so a keep-alive connection stays in step
        if urlsplit(self.path).path.rstrip("/") == "/auth/token":
            self._token(body)
        else:
            self._error(404, "not_found", f"no such endpoint: {self.path}")

    def _token(self, body: bytes) -> None:
        st = self.state
        try:
            req = json.loads(body or b"null")
            client_id, client_secret = req["client_id"], req["client_secret"]
        except (json.JSONDecodeError, TypeError, KeyError):
            self._error(400, "invalid_request", "send JSON {client_id, client_secret}")
            return
        expected = st.credentials.get(client_id) if isinstance(client_id, str) else None
        if (
            expected is None
            or not isinstance(client_secret, str)
            or not secrets.compare_digest(expected, client_secret)
        ):
            self._error(401, "invalid_client", "unknown client_id or wrong client_secret")
            return
        token = secrets.token_urlsafe(24)
        ttl = st.faults.token_ttl
        with st.lock:
            now = time.monotonic()
            # forget long-dead tokens so a long demo does not grow without bound
            for t in [t for t, exp in st.tokens.items() if exp < now - 3600]:
                del st.tokens[t]
            st.tokens[token] = now + ttl
            st.stats["tokens"] += 1
        expires_in: float | int = int(ttl) if float(ttl).is_integer() else ttl
        self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in})

    def _authorised(self) -> bool:
        st = self.state
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        with st.lock:
            expiry = st.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            expired = expiry is not None and time.monotonic() >= expiry
            if expired:
                st.stats["token_expired"] += 1
        bearer = {"WWW-Authenticate": "Bearer"}
        if expiry is None:
            self._error(401, "invalid_token", "missing or unknown bearer token", **bearer)
            return False
        if expired:
            self._error(401, "token_expired", "the token has expired; fetch a new one", **bearer)
            return False
        return True

    def _records(self, feed_id: str, query: dict[str, list[str]]) -> None:
        st = self.state
        if not self._authorised():
            return
        records = st.records(feed_id)
        if records is None:
            self._error(404, "unknown_feed", f"no feed {feed_id!r} on this server")
            return
        since_raw = (query.get("since") or [""])[0]
        limit_raw = (query.get("limit") or [str(DEFAULT_LIMIT)])[0]
        if since_raw and not since_raw.isdigit():
            self._error(400, "invalid_cursor", "since must be a next_cursor this server gave")
            return
        if not limit_raw.isdigit() or int(limit_raw) < 1:
            self._error(400, "invalid_limit", f"limit must be 1..{MAX_LIMIT}")
            return
        since, limit = int(since_raw or 0), min(int(limit_raw), MAX_LIMIT)

        # Faults come after auth and validation, as a struggling real API's would.
        f = st.faults
        with st.lock:
            st.pages += 1
            n = st.pages
            throttle = f.throttle_every > 0 and n % f.throttle_every == 0
            error = not throttle and (
                (f.down_from > 0 and n >= f.down_from)
                or (f.error_every > 0 and n % f.error_every == 0)
                or (f.error_rate > 0 and st.rng.random() < f.error_rate)
            )
            slow = f.slow_every > 0 and n % f.slow_every == 0 and f.slow_seconds > 0
            st.stats["throttled" if throttle else "errors" if error else "pages"] += 1
            if slow and not (throttle or error):
                st.stats["slow"] += 1
        if throttle:
            self._error(
                429, "rate_limited", "too many requests", **{"Retry-After": str(f.retry_after)}
            )
            return
        if error:
            self._error(500, "internal_error", "simulated server failure")
            return
        if slow:
            time.sleep(f.slow_seconds)

        page = records.page(since, since + limit)
        end = since + len(page)  # past the end: nothing served, the cursor stays put
        self._json(
            200,
            {"data": page, "next_cursor": str(end), "has_more": end < len(records)},
        )


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@dataclass
class Server:
    """A running feed server; `url` is its base address."""

    url: str
    httpd: ThreadingHTTPServer
    thread: threading.Thread
    state: _State

    @property
    def stats(self) -> Counter[str]:
        """Counts of what happened: pages, errors, throttled, slow, token_expired, tokens."""
        with self.state.lock:
            return Counter(self.state.stats)

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve(
    sim_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    faults: Faults | None = None,
    credentials: dict[str, str] | None = None,
) -> Server:
    """Start the API on host:port (0 = a free port) in a daemon thread; returns at once."""
    faults = faults or Faults()
    state = _State(
        sim_dir=Path(sim_dir),
        faults=faults,
        credentials=dict(credentials or DEFAULT_CREDENTIALS),
        rng=random.Random(faults.seed),
    )
    handler = type("Handler", (_Handler,), {"state": state})
    cls = _V6Server if ":" in host else ThreadingHTTPServer
    httpd = cls((host, port), handler)
    actual_port = httpd.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={
            "poll_interval": 0.1
        },  # shutdown() waits up to one poll name=f"feedserver-{actual_port}", daemon=True
    )
    thread.start()
    return Server(url=f"http://{shown}:{actual_port}", httpd=httpd, thread=thread, state=state)
