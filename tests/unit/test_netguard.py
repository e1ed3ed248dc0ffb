"""The in-process guard (tests/netguard.py) bites, and lets loopback and Unix sockets be.

Every test that asks for somewhere outside first swaps the guard's real socket calls
for a tripwire: were the guard ever off, the test fails without a packet leaving.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests import netguard

OUTSIDE = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737), the discard port


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The guard's real socket calls replaced by ones that only record being reached."""
    reached: list[str] = []

    def tripwire(name: str) -> Any:
        def call(*args: Any) -> Any:
            reached.append(name)
            raise AssertionError(f"the guard let {name}{args[1:]} through")

        return call

    for name in netguard._REAL:
        monkeypatch.setitem(netguard._REAL, name, tripwire(name))
    return reached


def test_the_guard_is_on_while_tests_run() -> None:
    for (owner, name), guard in netguard._GUARDS.items():
        assert getattr(owner, name) is guard, f"{name} is not guarded"


@pytest.mark.parametrize(
    ("kind", "call", "expected"),
    [
        (socket.SOCK_STREAM, lambda s: s.connect(OUTSIDE), "connect to 192.0.2.1:9"),
        (socket.SOCK_STREAM, lambda s: s.connect_ex(OUTSIDE), "connect_ex to 192.0.2.1:9"),
        (socket.SOCK_DGRAM, lambda s: s.sendto(b"x", OUTSIDE), "sendto to 192.0.2.1:9"),
        (socket.SOCK_DGRAM, lambda s: s.sendto(b"x", 0, OUTSIDE), "sendto to 192.0.2.1:9"),
        (socket.SOCK_DGRAM, lambda s: s.sendmsg([b"x"], [], 0, OUTSIDE), "sendmsg to 192.0.2.1:9"),
        (socket.SOCK_STREAM, lambda s: s.connect(("example.com", 80)), "example.com:80"),
    ],
)
def test_reaching_outside_is_refused_before_the_system_call(
    tripwires: list[str], kind: int, call: Any, expected: str
) -> None:
    with socket.socket(socket.AF_INET, kind) as s, pytest.raises(netguard.EgressError) as err:
        call(s)
    assert expected in str(err.value)
    assert tripwires == []
    assert netguard.taken() == [str(err.value).split(": ", 1)[1]]


@pytest.mark.parametrize(
    "lookup",
    [
        lambda: socket.getaddrinfo("example.com", 443),
        lambda: socket.gethostbyname("example.com"),
        lambda: socket.gethostbyname_ex("example.com"),
        lambda: socket.gethostbyaddr("192.0.2.1"),  # a reverse look-up asks DNS too
        lambda: socket.create_connection(("example.com", 443), timeout=1),
    ],
)
def test_looking_a_name_up_is_refused(tripwires: list[str], lookup: Any) -> None:
    with pytest.raises(netguard.EgressError):
        lookup()
    assert tripwires == []
    assert len(netguard.taken()) == 1


def test_loopback_unix_and_literal_look_ups_pass() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, port), timeout=5):
                pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        assert udp.sendto(b"x", udp.getsockname()) == 1
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"
    # a literal asks no server, whichever address it names
    assert socket.getaddrinfo("192.0.2.1", 9, type=socket.SOCK_STREAM)[0][4] == OUTSIDE
    assert socket.gethostbyname("localhost").startswith("127.")
    assert netguard.taken() == []


def test_an_attempt_swallowed_by_the_code_still_fails_its_test(
    pytester: pytest.Pytester, tripwires: list[str]
) -> None:
    pytester.makeconftest("from tests.conftest import _loopback_only_check  # noqa: F401")
    pytester.makepyfile(
        """
        import socket

        def test_phones_home():
            try:
                socket.getaddrinfo("telemetry.example.com", 443)
            except Exception:
                pass  # as a library that gives up on its usage report quietly would
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*reached beyond loopback: getaddrinfo('telemetry.example.com')*"])
    assert tripwires == []
