"""The preloaded library refuses every way past loopback before the kernel sees it,
lets loopback through, and notes each refusal (tests/preload.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import preload

# Run in a child process, which inherits LD_PRELOAD from the suite (tests/conftest.py).
ATTEMPTS = """
import errno, socket
def refused(call):
    try:
        call()
    except OSError as error:
        return error.errno if error.errno == errno.ENETUNREACH else error
    return "went through"
udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(refused(lambda: udp6.connect(("2001:4860:4860::8888", 443))))
print(refused(lambda: socket.socket().connect(("192.0.2.1", 80))))
print(refused(lambda: udp.sendto(b"q", ("192.0.2.53", 53))))
print(refused(lambda: udp.sendmsg([b"q"], [], 0, ("192.0.2.53", 53))))
print(refused(lambda: socket.socket(socket.AF_INET6).connect(("::ffff:192.0.2.1", 80))))
try:
    socket.getaddrinfo("example.com", 443)
    print("resolved")
except socket.gaierror as error:
    print(error.errno == socket.EAI_NONAME)
server = socket.create_server(("127.0.0.1", 0))
socket.create_connection(server.getsockname()).sendall(b"ok")
print(server.accept()[0].recv(2))
print(socket.getaddrinfo("localhost", 1)[0][4][0], socket.getaddrinfo(socket.gethostname(), 1) != [])
"""


def test_every_way_out_is_refused_and_noted(tmp_path: Path) -> None:
    log = tmp_path / "refused.log"
    env = {**os.environ, preload.LOG_VARIABLE: str(log)}
    assert str(preload.library()) in env["LD_PRELOAD"]
    out = subprocess.run(
        [sys.executable, "-c", ATTEMPTS], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    unreachable = str(101)  # ENETUNREACH, as when the kernel has no route
    assert out[:7] == [unreachable] * 5 + ["True", "b'ok'"]
    assert out[7] == "127.0.0.1 True"
    calls = [line.split(" ", 2)[2] for line in log.read_text().splitlines()]
    assert calls == [
        "connect dgram [2001:4860:4860::8888]:443",
        "connect stream 192.0.2.1:80",
        "sendto dgram 192.0.2.53:53",
        "sendmsg dgram 192.0.2.53:53",
        "connect stream [::ffff:192.0.2.1]:80",
        "getaddrinfo name example.com",
    ]


def test_only_chromiums_route_checks_are_expected() -> None:
    log = "\n".join(
        [
            "7 chromium connect dgram [2001:4860:4860::8888]:443",
            "7 chromium connect dgram 8.8.8.8:53",
            "8 python3 connect stream [2001:4860:4860::8888]:443",
            "9 python3 sendto dgram 8.8.8.8:53",
            "9 python3 getaddrinfo name pypi.org",
        ]
    )
    assert [line.split()[0] for line in preload.refusals(log)] == ["8", "9", "9"]
