"""http_json against the simulated mission API, with every kind of fault switched on."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from ingest.feeds.connectors import ConnectorError, pull
from ingest.feeds.connectors.http_json import credentials, pull_http_json, retry_after
from ingest.feeds.registry import parse_registry
from ingest.lab.feedserver import Faults, serve

FEED_ID = "unmic.sitreps"
N_RECORDS = 2345
SECRET = "demo-secret"
ENV = {"PEACEOPS_UNMIC_CREDENTIALS": f"demo-client:{SECRET}"}

FEED_YAML = """
version: 2
agencies:
  - {id: unmic, name: UNMIC, kind: NGO}
feeds:
  - id: unmic.sitreps
    agency: unmic
    kind: http_json
    format: json
    location: "${PEACEOPS_FEEDS_URL}/api/v1/unmic.sitreps/records"
    auth_url: "${PEACEOPS_FEEDS_URL}/auth/token"
    page_size: 200
    schedule: "@hourly"
    releasability: mission
    schema_version: 1
    entity: none
    credentials: {env: PEACEOPS_UNMIC_CREDENTIALS, airflow_conn: peaceops_unmic}
    mapping:
      record_id: [report_id]
      occurred_at: {fields: [occurred_at], format: iso}
      event_types: {reported: r, corrected: c, retracted: x}
"""

# One client for the module: a new httpx client per request costs ~50 ms.
HTTP = httpx.Client(timeout=10)

# Fast retries for tests: the production defaults back off from 0.2 s.
FAST = {"backoff": 0.01}


def make_feed(url: str, tmp_path: Path):
    return parse_registry(FEED_YAML, {"PEACEOPS_FEEDS_URL": url}, tmp_path).feeds[0]


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sim")
    folder = root / "api" / FEED_ID
    folder.mkdir(parents=True)
    with (folder / "records.jsonl").open("w") as fh:
        for i in range(N_RECORDS):
            fh.write(json.dumps({"report_id": f"R{i:05d}", "text": "x" * (i % 7)}) + "\n")
    return root


def record_ids(pages) -> list[str]:
    return [r["report_id"] for p in pages for r in json.loads(p.data)["data"]]


FAULTS = Faults(
    slow_every=4,
    slow_seconds=0.3,
    error_every=5,
    throttle_every=7,
    retry_after=1,
    token_ttl=1.0,
)


def test_pulls_every_record_once_in_order_through_faults(sim, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="ingest.feeds.connectors")
    with serve(sim, faults=FAULTS) as server:
        feed = make_feed(server.url, tmp_path)
        pages = list(pull_http_json(feed, None, ENV, **FAST))
        stats = server.stats
    assert record_ids(pages) == [f"R{i:05d}" for i in range(N_RECORDS)]
    assert [p.name for p in pages] == [f"page-{i + 1}" for i in range(len(pages))]
    assert all(p.fmt == "json" for p in pages)
    assert pages[-1].cursor == str(N_RECORDS)
    # Every kind of fault happened at least once and was survived.
    assert stats["slow"] >= 1 and stats["errors"] >= 1 and stats["throttled"] >= 1
    assert stats["token_expired"] >= 1 and stats["tokens"] >= 2
    # Retries are logged; the secret and the tokens never are.
    assert "retry" in caplog.text
    assert SECRET not in caplog.text and "Bearer" not in caplog.text


def test_pages_are_the_raw_response_bytes(sim, tmp_path):
    with serve(sim) as server:
        feed = make_feed(server.url, tmp_path)
        first = next(iter(pull(feed, None, ENV)))
        t = HTTP.post(
            feed.auth_url, json={"client_id": "demo-client", "client_secret": SECRET}
        ).json()["access_token"]
        raw = HTTP.get(
            feed.location, params={"limit": 200}, headers={"Authorization": f"Bearer {t}"}
        ).content
    assert first.data == raw
    assert first.cursor == "200"


def test_resume_from_a_cursor_yields_exactly_the_rest(sim, tmp_path):
    faults = Faults(error_every=3, throttle_every=11, retry_after=1)
    with serve(sim, faults=faults) as server:
        feed = make_feed(server.url, tmp_path)
        pulled = pull_http_json(feed, None, ENV, **FAST)
        head = [next(pulled) for _ in range(4)]
        pulled.close()
        rest = list(pull_http_json(feed, head[-1].cursor, ENV, **FAST))
        # Resuming at the end yields nothing (and no empty page).
        assert list(pull_http_json(feed, rest[-1].cursor, ENV, **FAST)) == []
    assert record_ids(head) + record_ids(rest) == [f"R{i:05d}" for i in range(N_RECORDS)]
    assert record_ids(rest)[0] == "R00800"


def test_bad_credentials_give_a_clear_error(sim, tmp_path):
    with serve(sim) as server:
        feed = make_feed(server.url, tmp_path)
        env = {"PEACEOPS_UNMIC_CREDENTIALS": "demo-client:wrong-secret"}
        with pytest.raises(ConnectorError) as err:
            list(pull(feed, None, env))
    msg = str(err.value)
    assert FEED_ID in msg and "demo-client" in msg and "401" in msg
    assert "PEACEOPS_UNMIC_CREDENTIALS" in msg and "wrong-secret" not in msg


def test_missing_credentials_name_the_env_var(tmp_path):
    feed = make_feed("http://127.0.0.1:9", tmp_path)
    with pytest.raises(ConnectorError) as err:
        pull(feed, None, {})  # fails before any request
    assert FEED_ID in str(err.value) and "PEACEOPS_UNMIC_CREDENTIALS" in str(err.value)
    assert "AIRFLOW_CONN_PEACEOPS_UNMIC" in str(err.value)


def test_malformed_env_credentials(tmp_path):
    feed = make_feed("http://127.0.0.1:9", tmp_path)
    with pytest.raises(ConnectorError, match="client_id:client_secret"):
        credentials(feed, {"PEACEOPS_UNMIC_CREDENTIALS": "no-colon"})


@pytest.mark.parametrize(
    "conn",
    [
        "http://demo-client:demo%2Fsecret@127.0.0.1:8765",
        '{"conn_type": "http", "login": "demo-client", "password": "demo/secret"}',
    ],
)
def test_airflow_connection_fallback(tmp_path, conn):
    feed = make_feed("http://127.0.0.1:9", tmp_path)
    creds = credentials(feed, {"AIRFLOW_CONN_PEACEOPS_UNMIC": conn})
    assert (creds.client_id, creds.client_secret) == ("demo-client", "demo/secret")
    assert "demo/secret" not in repr(creds)


def test_persistent_server_errors_give_up_after_the_attempts(sim, tmp_path):
    with serve(sim, faults=Faults(error_every=1)) as server:
        feed = make_feed(server.url, tmp_path)
        with pytest.raises(ConnectorError, match=r"failed after 3 attempts \(HTTP 500\)"):
            list(pull_http_json(feed, None, ENV, attempts=3, **FAST))
        assert server.stats["errors"] == 3


def test_connection_errors_are_retried_then_reported(tmp_path):
    # A port nothing listens on: connection refused on every attempt.
    feed = make_feed("http://127.0.0.1:9", tmp_path)
    sleeps: list[float] = []
    with pytest.raises(ConnectorError, match="token request failed after 4 attempts"):
        list(pull_http_json(feed, None, ENV, attempts=4, backoff=0.2, sleep=sleeps.append))
    # exponential backoff, each step jittered between half and all of it
    assert all(0.5 * step <= s <= step for s, step in zip(sleeps, [0.2, 0.4, 0.8], strict=True))


def test_retry_after_is_honoured(sim, tmp_path):
    sleeps: list[float] = []
    with serve(sim, faults=Faults(throttle_every=2, retry_after=3)) as server:
        feed = make_feed(server.url, tmp_path)
        pulled = pull_http_json(feed, None, ENV, sleep=sleeps.append, **FAST)
        next(pulled)
        next(pulled)  # the second page request is throttled
        pulled.close()
    assert sleeps == [3.0]


def scripted(*answers: httpx.Response) -> httpx.MockTransport:
    """A token for any POST, then `answers` to the GETs in turn."""
    pages = iter(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 60})
        return next(pages)

    return httpx.MockTransport(handle)


LAST_PAGE = httpx.Response(
    200, json={"data": [{"report_id": "R1"}], "next_cursor": "1", "has_more": False}
)


def test_retry_after_as_an_http_date(tmp_path):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    transport = scripted(httpx.Response(429, headers={"Retry-After": when}), LAST_PAGE)
    sleeps: list[float] = []
    feed = make_feed("https://feeds.example.org", tmp_path)
    pages = list(pull_http_json(feed, None, ENV, transport=transport, sleep=sleeps.append))
    assert len(pages) == 1
    assert len(sleeps) == 1 and 25 < sleeps[0] <= 30


def test_retry_after_forms():
    now = datetime(2026, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("Fri, 06 Nov 2026 08:50:07 GMT", now) == 30.0
    assert retry_after("Friday, 06-Nov-26 08:50:07 GMT", now) == 30.0
    assert retry_after("soon", now) is None


def test_backoff_is_jittered(tmp_path):
    feed = make_feed("https://feeds.example.org", tmp_path)

    def waits() -> list[float]:
        failures = [httpx.Response(500) for _ in range(4)]
        sleeps: list[float] = []
        transport = scripted(*failures, LAST_PAGE)
        list(pull_http_json(feed, None, ENV, transport=transport, sleep=sleeps.append, backoff=1.0))
        return sleeps

    first, second = waits(), waits()
    for run in (first, second):
        assert len(run) == 4 and all(0.5 * 2**k <= s <= 2**k for k, s in enumerate(run))
    assert first != second  # a fixed schedule would send every client back at once


@pytest.mark.parametrize(
    "url",
    ["http://feeds.example.org", "http://10.0.0.5:8765"],
)
def test_credentials_go_in_clear_to_no_other_machine(tmp_path, url):
    def no_request(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url}")

    feed = make_feed(url, tmp_path)
    with pytest.raises(
        ConnectorError, match=r"feed 'unmic.sitreps': refusing to send its credentials"
    ) as err:
        list(pull_http_json(feed, None, ENV, transport=httpx.MockTransport(no_request)))
    assert "use https" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "url", ["https://feeds.example.org", "http://localhost:8765", "http://[::1]:8765"]
)
def test_https_or_this_machine_is_fine(tmp_path, url):
    feed = make_feed(url, tmp_path)
    pages = list(pull_http_json(feed, None, ENV, transport=scripted(LAST_PAGE)))
    assert len(pages) == 1
