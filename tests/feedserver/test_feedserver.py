"""The simulated mission API: paging, auth, faults, health and its CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ingest.lab.feedserver import MAX_LIMIT, Faults, serve
from ingest.lab.feedserver.cli import command
from ingest.net import is_loopback

FEED = "unmic.sitreps"
# One client for the module: a new httpx client per request costs ~50 ms.
HTTP = httpx.Client(timeout=10)
CREDS = {"client_id": "demo-client", "client_secret": "demo-secret"}


def write_records(sim: Path, feed_id: str, n: int, extra: list[str] = ()) -> None:
    folder = sim / "api" / feed_id
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"report_id": f"R{i:05d}", "n": i}) for i in range(n)]
    (folder / "records.jsonl").write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")


@pytest.fixture
def sim(tmp_path: Path) -> Path:
    write_records(tmp_path, FEED, 25, extra=["{not json", ""])
    return tmp_path


@pytest.fixture
def server(sim: Path):
    with serve(sim, "127.0.0.1", 0) as s:
        yield s


def token(url: str, **creds: str) -> httpx.Response:
    return HTTP.post(f"{url}/auth/token", json=creds or CREDS)


def auth(url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(url).json()['access_token']}"}


def records_url(url: str, feed_id: str = FEED) -> str:
    return f"{url}/api/v1/{feed_id}/records"


def test_health(server):
    r = HTTP.get(f"{server.url}/health")
    assert r.status_code == 200 and r.text == "ok"


def test_url_has_the_actual_port(server):
    assert server.url.startswith("http://127.0.0.1:")
    assert not server.url.endswith(":0")


def test_pages_through_every_record_and_serves_bad_lines_as_strings(server):
    headers, cursor, got = auth(server.url), None, []
    for _ in range(20):
        params = {"limit": 10} | ({"since": cursor} if cursor is not None else {})
        page = HTTP.get(records_url(server.url), params=params, headers=headers).json()
        got.extend(page["data"])
        assert isinstance(page["next_cursor"], str)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert [r["report_id"] for r in got[:-1]] == [f"R{i:05d}" for i in range(25)]
    assert got[-1] == "{not json"  # blank line skipped, invalid line kept as a string

    # At the end: nothing more, and the cursor stays put.
    end = HTTP.get(records_url(server.url), params={"since": cursor}, headers=headers).json()
    assert end == {"data": [], "next_cursor": cursor, "has_more": False}


def test_limit_is_capped_and_validated(tmp_path):
    write_records(tmp_path, FEED, MAX_LIMIT + 5)
    with serve(tmp_path) as s:
        h = auth(s.url)
        page = HTTP.get(records_url(s.url), params={"limit": 5000}, headers=h).json()
        assert len(page["data"]) == MAX_LIMIT and page["has_more"]
        assert HTTP.get(records_url(s.url), params={"limit": "x"}, headers=h).status_code == 400
        bad = HTTP.get(records_url(s.url), params={"since": "abc"}, headers=h)
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_cursor"


def test_unknown_feed_is_404(server):
    r = HTTP.get(records_url(server.url, "nope.feed"), headers=auth(server.url))
    assert r.status_code == 404 and r.json()["error"] == "unknown_feed"


def test_bad_credentials_are_401(server):
    r = token(server.url, client_id="demo-client", client_secret="wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert HTTP.post(f"{server.url}/auth/token", content=b"junk").status_code == 400


def test_token_answer(server):
    body = token(server.url).json()
    assert body["access_token"] and body["expires_in"] == 3600


def test_missing_or_unknown_token_is_invalid_token(server):
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = HTTP.get(records_url(server.url), headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_configured_credentials(sim):
    with serve(sim, credentials={"me": "s3cret"}) as s:
        assert token(s.url).status_code == 401
        assert token(s.url, client_id="me", client_secret="s3cret").status_code == 200


def test_token_expires(sim):
    with serve(sim, faults=Faults(token_ttl=0.2)) as s:
        h = auth(s.url)
        assert HTTP.get(records_url(s.url), headers=h).status_code == 200
        time.sleep(0.3)
        r = HTTP.get(records_url(s.url), headers=h)
        assert r.status_code == 401 and r.json()["error"] == "token_expired"
        assert s.stats["token_expired"] == 1


def test_faults_are_deterministic(sim):
    faults = Faults(throttle_every=3, error_every=4, slow_every=5, slow_seconds=0.05, retry_after=2)
    with serve(sim, faults=faults) as s:
        h = auth(s.url)
        codes = []
        for _ in range(12):
            r = HTTP.get(records_url(s.url), params={"limit": 1}, headers=h)
            codes.append(r.status_code)
            if r.status_code == 429:
                assert r.headers["Retry-After"] == "2"
        assert codes == [200, 200, 429, 500, 200, 429, 200, 500, 429, 200, 200, 429]
        assert s.stats["slow"] == 2 and s.stats["errors"] == 2 and s.stats["throttled"] == 4


def test_a_server_can_go_down_mid_pull(sim):
    with serve(sim, faults=Faults(down_from=3)) as s:
        h = auth(s.url)
        codes = [HTTP.get(records_url(s.url), headers=h).status_code for _ in range(5)]
    assert codes == [200, 200, 500, 500, 500]


def test_error_rate_is_seeded(sim):
    def run() -> list[int]:
        with serve(sim, faults=Faults(error_rate=0.5, seed=3)) as s:
            h = auth(s.url)
            return [HTTP.get(records_url(s.url), headers=h).status_code for _ in range(12)]

    first = run()
    assert first == run() and 500 in first and 200 in first


def test_realistic_faults_switch_everything_on():
    f = Faults.realistic()
    assert f.slow_every and f.error_rate and f.throttle_every and f.token_ttl < 3600


def test_cli_help():
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0, result.output
    for option in ("--port", "--host", "--allow-remote", "--sim-dir", "--faults", "--token-ttl"):
        assert option in result.output


def test_cli_refuses_a_non_loopback_host(tmp_path):
    result = CliRunner().invoke(command, ["--host", "0.0.0.0", "--sim-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback
