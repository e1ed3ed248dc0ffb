"""`peaceops dashboard` keeps to this machine unless told, and then offers what it is
told to, public only by default: the dashboard has no login of its own."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner, Result

from ingest.cli import main


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path) -> list[dict]:
    """What each start of Streamlit was given, instead of starting it."""
    calls: list[dict] = []

    def call(args: list[str], env: dict[str, str]) -> int:
        calls.append({"args": args, "env": env})
        return 0

    monkeypatch.setattr(subprocess, "call", call)
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
