"""`http_json` feeds: a paged JSON API behind a client-credentials token.

Protocol (docs/architecture.md, "Connectors"): ``POST auth_url`` with JSON
``{"client_id", "client_secret"}`` gives ``{"access_token", "expires_in"}``;
``GET location?since=<cursor>&limit=<page_size>`` with ``Authorization: Bearer``
gives ``{"data": [...], "next_cursor": ..., "has_more": ...}``.

Each page is yielded with its bytes untouched, so the landed payload is exactly
what the agency sent. Transient failures (5xx, 429, timeouts, dropped
connections) are retried with exponential backoff, jittered so that clients that
failed together do not retry together; a 429's Retry-After (seconds or an HTTP
date) is honoured. A 401 fetches a new token once. The secret and the token are
never logged, and never sent in clear: over https, or plain http to this machine
only.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from ingest.feeds.connectors.base import ConnectorError, Pulled
from ingest.feeds.registry import Feed
from ingest.net import is_loopback

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
BACKOFF_BASE = 0.2  # seconds; doubled per attempt
MAX_ATTEMPTS = 5  # per request, counting the first
MAX_RETRY_AFTER = 120.0  # cap, so a confused server cannot stall a load for hours


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    source: str  # where they came from, for messages (never the values)

    def __repr__(self) -> str:  # keep the secret out of tracebacks and logs
        return f"Credentials(client_id={self.client_id!r}, source={self.source!r})"


def airflow_conn_var(conn_id: str) -> str:
    """Airflow's environment variable for a connection id."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _from_airflow_conn(value: str) -> tuple[str, str] | None:
    """login/password from an Airflow connection given as JSON or as a URI."""
    value = value.strip()
    if value.startswith("{"):
        try:
            doc = json.loads(value)
        except json.JSONDecodeError:
            return None
        login, password = doc.get("login"), doc.get("password")
        return (str(login), str(password)) if login and password else None
    parts = urlsplit(value)
    if parts.username and parts.password:
        return unquote(parts.username), unquote(parts.password)
    return None


def credentials(feed: Feed, env: Mapping[str, str]) -> Credentials:
    """The feed's client id and secret: from its env var, else its Airflow connection.

    The Airflow connection is read from Airflow's own environment variable
    (``AIRFLOW_CONN_<ID>``, URI or JSON form) without importing Airflow, which
    costs seconds and is not needed outside the scheduler.
    """
    tried: list[str] = []
    if feed.credentials_env:
        tried.append(feed.credentials_env)
        value = env.get(feed.credentials_env)
        if value:
            client_id, sep, secret = value.partition(":")
            if not sep or not client_id or not secret:
                raise ConnectorError(
                    f"feed '{feed.id}': {feed.credentials_env} must be 'client_id:client_secret'"
                )
            return Credentials(client_id, secret, feed.credentials_env)
    if feed.credentials_conn:
        var = airflow_conn_var(feed.credentials_conn)
        tried.append(f"{var} (Airflow connection {feed.credentials_conn})")
        if env.get(var):
            pair = _from_airflow_conn(env[var])
            if pair is None:
                raise ConnectorError(
                    f"feed '{feed.id}': Airflow connection {feed.credentials_conn} ({var}) "
                    "has no login and password"
                )
            return Credentials(pair[0], pair[1], var)
    where = " or ".join(tried) or "nothing (feeds.yaml names no credentials)"
    raise ConnectorError(
        f"feed '{feed.id}': no API credentials; set {where} "
        f"(env var format 'client_id:client_secret')"
    )


class _Session:
    """One pull's HTTP client, token and retry policy."""

    def __init__(
        self,
        feed: Feed,
        creds: Credentials,
        client: httpx.Client,
        attempts: int,
        backoff: float,
        sleep: Callable[[float], None],
    ):
        self.feed = feed
        self.creds = creds
        self.client = client
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep
        self.token: str | None = None

    def _wait(self, attempt: int, resp: httpx.Response | None) -> float:
        if resp is not None and resp.status_code == 429:
            asked = retry_after(resp.headers.get("Retry-After", ""))
            if asked is not None:
                return min(max(asked, 0.0), MAX_RETRY_AFTER)
        # Between half and all of the exponential step: clients that failed together
        # (a server restart) spread their retries instead of hitting it together again.
        return self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)

    def send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """Send with retries for transient failures; returns the final response."""
        for attempt in range(1, self.attempts + 1):
            resp: httpx.Response | None = None
            try:
                resp = self.client.request(method, url, **kwargs)
            except httpx.TransportError as err:  # timeouts, refused/dropped connections
                problem = f"{type(err).__name__}: {err}"
            else:
                if resp.status_code < 500 and resp.status_code != 429:
                    return resp
                problem = f"HTTP {resp.status_code}"
            if attempt == self.attempts:
                raise ConnectorError(
                    f"feed '{self.feed.id}': {what} failed after {attempt} attempts ({problem})"
                )
            delay = self._wait(attempt, resp)
            level = (
                logging.INFO if resp is not None and resp.status_code == 429 else logging.WARNING
            )
            log.log(
                level,
                "feed %s: %s: %s; retry %d/%d in %.2f s",
                self.feed.id,
                what,
                problem,
                attempt,
                self.attempts - 1,
                delay,
            )
            self.sleep(delay)
        raise AssertionError("unreachable")

    def fetch_token(self) -> str:
        assert self.feed.auth_url
        resp = self.send(
            "POST",
            self.feed.auth_url,
            "token request",
            json={"client_id": self.creds.client_id, "client_secret": self.creds.client_secret},
        )
        if resp.status_code in (400, 401, 403):
            raise ConnectorError(
                f"feed '{self.feed.id}': {self.feed.auth_url} refused client "
                f"'{self.creds.client_id}' (HTTP {resp.status_code} {_error_code(resp)}); "
                f"check {self.creds.source}"
            )
        if resp.status_code != 200:
            raise ConnectorError(
                f"feed '{self.feed.id}': token request answered HTTP {resp.status_code}"
            )
        try:
            token = resp.json()["access_token"]
        except (ValueError, KeyError, TypeError):
            raise ConnectorError(
                f"feed '{self.feed.id}': token answer has no access_token"
            ) from None
        log.info("feed %s: got an access token for client %s", self.feed.id, self.creds.client_id)
        self.token = str(token)
        return self.token

    def get_page(self, cursor: str | None) -> httpx.Response:
        params: dict[str, str | int] = {"limit": self.feed.page_size}
        if cursor is not None:
            params["since"] = cursor
        what = f"page after cursor {cursor!r}"
        token = self.token or self.fetch_token()
        renewed = False
        while True:
            resp = self.send(
                "GET",
                self.feed.location,
                what,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            # 401 means the token expired (or the server forgot it): renew once.
            if resp.status_code == 401 and not renewed:
                log.info(
                    "feed %s: token rejected (%s); fetching a new one",
                    self.feed.id,
                    _error_code(resp),
                )
                token = self.fetch_token()
                renewed = True
                continue
            if resp.status_code != 200:
                raise ConnectorError(
                    f"feed '{self.feed.id}': {what} answered HTTP {resp.status_code} "
                    f"{_error_code(resp)}"
                )
            return resp


def retry_after(value: str, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for: a number of seconds or an HTTP date
    (RFC 9110); None when it is neither."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 850 and asctime forms carry no zone: they mean GMT
        when = when.replace(tzinfo=UTC)
    return (when - (now or datetime.now(UTC))).total_seconds()


def check_transport(feed: Feed) -> None:
    """Refuse to send the feed's credentials in clear: https, or plain http to this
    machine only (the simulated API)."""
    for url in (feed.auth_url or "", feed.location):
        parts = urlsplit(url)
        if parts.scheme == "https" or (
            parts.scheme == "http" and is_loopback(parts.hostname or "")
        ):
            continue
        where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        raise ConnectorError(
            f"feed '{feed.id}': refusing to send its credentials to {where}: use https "
            "(plain http only to this machine)"
        )


def _error_code(resp: httpx.Response) -> str:
    """The API's error code, if the body carries one (never echoes headers)."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def pull_http_json(
    feed: Feed,
    cursor: str | None,
    env: Mapping[str, str],
    *,
    attempts: int = MAX_ATTEMPTS,
    backoff: float = BACKOFF_BASE,
    timeout: httpx.Timeout | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Pulled]:
    """Yield one `Pulled` per non-empty page after `cursor`, until has_more is false."""
    if not feed.auth_url:
        raise ConnectorError(f"feed '{feed.id}': an http_json feed needs auth_url")
    check_transport(feed)
    # Resolved before the first page so a missing secret fails before any request.
    creds = credentials(feed, env)
    timeout = timeout or httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    return _pages(feed, cursor, creds, timeout, transport, attempts, backoff, sleep)


def _pages(
    feed: Feed,
    cursor: str | None,
    creds: Credentials,
    timeout: httpx.Timeout,
    transport: httpx.BaseTransport | None,
    attempts: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> Iterator[Pulled]:
    with httpx.Client(timeout=timeout, transport=transport) as client:
        session = _Session(feed, creds, client, attempts, backoff, sleep)
        n = 0
        while True:
            resp = session.get_page(cursor)
            data = resp.content
            try:
                page = json.loads(data)
                records = page["data"]
                has_more = page["has_more"]
                next_cursor = page.get("next_cursor")
            except (ValueError, KeyError, TypeError):
                raise ConnectorError(
                    f"feed '{feed.id}': page after cursor {cursor!r} is not "
                    '{"data": [...], "next_cursor": ..., "has_more": ...}'
                ) from None
            if not isinstance(records, list):
                raise ConnectorError(f"feed '{feed.id}': page 'data' is not a list")
            next_cursor = cursor if next_cursor is None else str(next_cursor)
            if records:
                n += 1
                log.info(
                    "feed %s: page %d, %d records, next cursor %s",
                    feed.id,
                    n,
                    len(records),
                    next_cursor,
                )
                yield Pulled(f"page-{n}", data, "json", next_cursor)
            if not has_more:
                return
            if next_cursor == cursor:
                # has_more with a cursor that does not move would loop forever.
                raise ConnectorError(
                    f"feed '{feed.id}': API says has_more but the cursor stays at {cursor!r}"
                )
            cursor = next_cursor
