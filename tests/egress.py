"""Count a process tree's attempts to reach anything but loopback, from an strace log.

The in-process guard (tests/netguard.py) sees only the test runner's own sockets;
subprocesses (Chromium, Streamlit, dbt or Airflow commands) are measured by running
them under STRACE and counting here. An attempt is a connect() to, or a send towards,
an IPv4/IPv6 address outside loopback, in two kinds: `sent`, a TCP connect or any
send or write on such a socket (a DNS query to the resolver is one), which puts a
packet on the wire; and `route_checks`, a connect() on a UDP socket, which only asks
the kernel for a route. Unix and netlink sockets, files and pipes are not counted:
they never leave the machine.

    strace -f --seccomp-bpf -yy -Y -qq -e signal=none \\
        -e trace=connect,sendto,sendmsg,sendmmsg,write,writev -o /tmp/trace make test
    .venv/bin/python -m tests.egress /tmp/trace
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

# -yy prints each socket's endpoints beside its descriptor, so a send() on a connected
# socket (how resolvers send DNS queries, and libuv any data) shows where it goes, and a
# write() to a file shows a path, not a socket; -Y names the program;
# --seccomp-bpf stops only at the traced calls, which keeps a traced Chromium fast.
STRACE = (
    "strace",
    "-f",
    "--seccomp-bpf",
    "-yy",
    "-Y",
    "-qq",
    "-e",
    "signal=none",
    "-e",
    "trace=connect,sendto,sendmsg,sendmmsg,write,writev",
)

# 1234<chromium> sendmmsg(7<UDP:[10.0.0.2:5000->10.0.0.1:53]>, ...
_CALL = re.compile(
    r"^(?:\d+(?:<(?P<program>[^>]*)>)?\s+)?(?P<call>connect|sendto|sendmsg|sendmmsg|writev?)"
    r"\(\d+(?:<(?P<kind>[^:>]+):\[(?P<ends>.*?)\]>)?"
)
_V4 = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_V6 = re.compile(r'sin6_port=htons\((\d+)\),[^}]*?inet_pton\(AF_INET6, "([^"]+)"')
_CONNECTIONLESS = {"UDP", "UDPv6", "UDPLITE", "UDPLITEv6", "RAW", "RAWv6"}
_IP_SOCKETS = {"TCP", "TCPv6", *_CONNECTIONLESS}


def _is_loopback(host: str, *, or_unspecified: bool = True) -> bool:
    """127.0.0.0/8, ::1, their v4-mapped forms; and as a destination 0.0.0.0 or ::,
    which Linux delivers to this host."""
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback or (or_unspecified and ip.is_unspecified)


def _addresses(line: str) -> list[str]:
    """The IP socket addresses a call names ('host:port')."""
    named = [f"{h}:{p}" for p, h in _V4.findall(line)]
    return named + [f"[{h}]:{p}" for p, h in _V6.findall(line)]


def _host(endpoint: str) -> str:
    """The host of '1.2.3.4:53' or '[::1]:443'."""
    return endpoint.rpartition(":")[0]


@dataclass
class Egress:
    """What a traced process tree aimed past loopback, per (program, destination)."""

    # TCP connects, sends and writes (DNS queries included): packets that could leave
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    # connect() on a UDP or raw socket: the kernel picks a route and sends nothing
    route_checks: Counter[tuple[str, str]] = field(default_factory=Counter)

    def total(self) -> int:
        return self.sent.total() + self.route_checks.total()


def _attempt(line: str) -> tuple[bool, str, list[str]] | None:
    """Whether one traced call is a route check, its program and its non-loopback
    destinations ('host:port'); None for a line that is no call's head, or a call on a
    socket that is not IP."""
    call = _CALL.match(line)
    if not call:
        return None  # a '<... resumed>' tail, an exit line: the call's head was counted
    program = call["program"] or "?"
    route_check = call["call"] == "connect" and call["kind"] in _CONNECTIONLESS
    named = [] if call["call"].startswith("write") else _addresses(line)
    if named or call["call"] == "connect":
        # a connect() to AF_UNSPEC or AF_UNIX names no IP address
        return route_check, program, [d for d in named if not _is_loopback(_host(d))]
    if call["kind"] not in _IP_SOCKETS:
        return None
    local, _, peer = (call["ends"] or "").partition("->")
    if peer:
        return False, program, [] if _is_loopback(_host(peer)) else [peer]
    # No peer shown (gVisor, for one, does not report it): a socket bound to loopback
    # can only talk to loopback; any other is counted, its destination unknown.
    if ":" in local and _is_loopback(_host(local), or_unspecified=False):
        return None
    return False, program, [f"unknown peer ({call['kind']})"]


def measure(lines: Iterable[str]) -> Egress:
    """Every attempt past loopback in an strace log taken with STRACE."""
    egress = Egress()
    for line in lines:
        if found := _attempt(line):
            route_check, program, destinations = found
            counter = egress.route_checks if route_check else egress.sent
            counter.update((program, d) for d in destinations)
    return egress


def main(path: str) -> int:
    with open(path, errors="replace") as log:
        egress = measure(log)
    for title, found in (("sent", egress.sent), ("route checks", egress.route_checks)):
        print(f"{title}: {found.total()}")
        for (program, destination), n in found.most_common():
            print(f"{n:6d}  {program:<20} {destination}")
    print(f"{egress.total()} outbound attempts in {path}")
    return 1 if egress.sent else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
