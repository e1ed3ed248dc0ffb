"""`peaceops dashboard` keeps to this machine unless told, and then offers what it is
told to, public only by default: the dashboard has no login of its own."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ingest.cli import main
from ingest.commands import dashboard as dashboard_command


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path) -> list[dict]:
    """What each start of Streamlit was given, instead of starting it."""
    calls: list[dict] = []

    def serve(args: list[str], env: dict[str, str]) -> None:
        calls.append({"args": args, "env": env})

    monkeypatch.setattr(dashboard_command, "serve", serve)
    monkeypatch.setenv("PEACEOPS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PEACEOPS_DASHBOARD_AUDIENCES", raising=False)
    return calls


def dashboard(*args: str) -> Result:
    return CliRunner().invoke(main, ["dashboard", *args])


def offered(calls: list[dict]) -> str:
    (call,) = calls
    return call["env"]["PEACEOPS_DASHBOARD_AUDIENCES"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "dashboard.example.org"])
def test_a_non_loopback_host_is_refused(started, host):
    result = dashboard("--host", host)
    assert result.exit_code == 2
    assert "--allow-remote" in result.output and "proxy" in result.output
    assert started == []


def test_on_this_machine_every_audience_public_first(started):
    assert dashboard().exit_code == 0
    assert offered(started) == "public,partners,mission"


def test_remote_offers_public_only_unless_configured(started, monkeypatch):
    assert dashboard("--host", "0.0.0.0", "--allow-remote").exit_code == 0
    assert offered(started) == "public"
    started.clear()
    monkeypatch.setenv("PEACEOPS_DASHBOARD_AUDIENCES", "partners")
    assert dashboard("--host", "0.0.0.0", "--allow-remote").exit_code == 0
    assert offered(started) == "partners"
    started.clear()
    result = dashboard("--host", "0.0.0.0", "--allow-remote", "--audience", "mission")
    assert result.exit_code == 0 and offered(started) == "mission"
    assert "audiences: mission" in result.output


def test_a_wrong_audience_setting_is_refused(started, monkeypatch):
    monkeypatch.setenv("PEACEOPS_DASHBOARD_AUDIENCES", "restricted")
    result = dashboard()
    assert result.exit_code == 2 and "PEACEOPS_DASHBOARD_AUDIENCES" in result.output
    assert started == []


def test_help_names_the_default_the_code_opens():
    text = " ".join(CliRunner().invoke(main, ["dashboard", "--help"]).output.split())
    assert "public selected" in text and "default: mission" not in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    """Whether a server could listen on `port` now, as Streamlit does (SO_REUSEADDR: the
    health checks' connections left in TIME_WAIT do not count, a listener does)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
        return True


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_killing_the_command_frees_its_port(tmp_path: Path, sig: signal.Signals) -> None:
    """The real command and Streamlit: once the `peaceops dashboard` process is killed
    (even with SIGKILL, which it cannot forward), nothing holds its port."""
    port = _free_port()
    env = {**os.environ, "PEACEOPS_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "peaceops"), "dashboard", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group: the test can clean up whatever it leaves
    )
    try:
        deadline = time.monotonic() + 60
        while not _health(port):
            assert proc.poll() is None, f"dashboard exited {proc.returncode}"
            assert time.monotonic() < deadline, "dashboard did not answer in 60 s"
            time.sleep(0.3)
        assert not _port_free(port)
        proc.send_signal(sig)
        proc.wait(timeout=20)
        deadline = time.monotonic() + 10
        while not _port_free(port):
            assert time.monotonic() < deadline, f"port {port} still held after the kill"
            time.sleep(0.2)
        assert not _health(port)
    finally:
        with contextlib.suppress(ProcessLookupError):  # leftovers of a failed run only
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_the_audiences_offered_by_default_are_the_ladder_public_first() -> None:
    assert dashboard_command.offered_audiences((), None, False) == ("public", "partners", "mission")
