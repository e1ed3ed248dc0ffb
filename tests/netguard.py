"""Keep the test process on loopback: a new dependency that phones home fails in CI.

`loopback_only()` wraps the socket module's ways out: connect, connect_ex, sendto and
sendmsg towards an IPv4/IPv6 address, and name look-ups (getaddrinfo, gethostbyname,
gethostbyname_ex, gethostbyaddr). Loopback addresses, the unspecified address (Linux
sends it to this host), the name "localhost" and every non-IP socket (Unix, netlink)
pass; anything else raises EgressError before the system call, so nothing leaves.

EgressError is not an OSError, so code that retries or gives up on network errors
does not quietly absorb it; and every refusal is also recorded, so that a test whose
code swallows it anyway still fails (see `taken()` and tests/conftest.py).

Only this Python process is covered. Subprocesses (Chromium, Streamlit, dbt or Airflow
commands) are not: they are measured with strace instead (tests/egress.py).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_REAL: dict[str, Any] = {
    "connect": socket.socket.connect,
    "connect_ex": socket.socket.connect_ex,
    "sendto": socket.socket.sendto,
    "sendmsg": socket.socket.sendmsg,
    "getaddrinfo": socket.getaddrinfo,
    "gethostbyname": socket.gethostbyname,
    "gethostbyname_ex": socket.gethostbyname_ex,
    "gethostbyaddr": socket.gethostbyaddr,
}
_IP_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_refused: list[str] = []


class EgressError(RuntimeError):
    """A test process tried to reach, or look up, something beyond loopback."""


def _is_local_name(host: str) -> bool:
    """'localhost', or a loopback or unspecified address literal."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _refuse(what: str) -> EgressError:
    _refused.append(what)
    return EgressError(f"a test tried to reach beyond loopback: {what}")


def _check_destination(sock: socket.socket, address: Any, call: str) -> None:
    if sock.family not in _IP_FAMILIES or address is None:
        return
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode()
    if host != "" and not _is_local_name(host):
        raise _refuse(f"{call} to {host}:{address[1]}")


def _check_name(host: Any, call: str) -> None:
    """A look-up of anything but localhost may ask a DNS server; a literal asks nobody."""
    if isinstance(host, bytes):
        host = host.decode()
    if host and not _is_local_name(host) and (call == "gethostbyaddr" or not _is_literal(host)):
        raise _refuse(f"{call}({host!r})")


def _connect(self: socket.socket, address: Any) -> None:
    _check_destination(self, address, "connect")
    return _REAL["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check_destination(self, address, "connect_ex")
    return _REAL["connect_ex"](self, address)


def _sendto(self: socket.socket, data: Any, *args: Any) -> int:
    _check_destination(self, args[-1], "sendto")  # sendto(data[, flags], address)
    return _REAL["sendto"](self, data, *args)


def _sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
    _check_destination(self, args[2] if len(args) > 2 else None, "sendmsg")
    return _REAL["sendmsg"](self, buffers, *args)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    _check_name(host, "getaddrinfo")
    return _REAL["getaddrinfo"](host, *args, **kwargs)


def _gethostbyname(host: str) -> str:
    _check_name(host, "gethostbyname")
    return _REAL["gethostbyname"](host)


def _gethostbyname_ex(host: str) -> Any:
    _check_name(host, "gethostbyname_ex")
    return _REAL["gethostbyname_ex"](host)


def _gethostbyaddr(host: str) -> Any:
    _check_name(host, "gethostbyaddr")
    return _REAL["gethostbyaddr"](host)


_GUARDS: dict[tuple[Any, str], Any] = {
    (socket.socket, "connect"): _connect,
    (socket.socket, "connect_ex"): _connect_ex,
    (socket.socket, "sendto"): _sendto,
    (socket.socket, "sendmsg"): _sendmsg,
    (socket, "getaddrinfo"): _getaddrinfo,
    (socket, "gethostbyname"): _gethostbyname,
    (socket, "gethostbyname_ex"): _gethostbyname_ex,
    (socket, "gethostbyaddr"): _gethostbyaddr,
}


@contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse every way past loopback while inside."""
    saved = {key: getattr(*key) for key in _GUARDS}
    for (owner, name), guard in _GUARDS.items():
        setattr(owner, name, guard)
    try:
        yield
    finally:
        for (owner, name), original in saved.items():
            setattr(owner, name, original)


def taken() -> list[str]:
    """The attempts refused since the last call, emptying the record."""
    refused = list(_refused)
    _refused.clear()
    return refused
