"""The strace counter (tests/egress.py) tells loopback from outside, sends from route checks."""

from __future__ import annotations

from tests.egress import measure

# Lines as strace -f -yy -Y prints them, from Chromium and pytest runs on this machine.
TRACE = """\
1549<Chrome_ChildIOT> connect(26<UDP:[0.0.0.0:56239]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("8.8.8.8")}, 16) = 0
1549<Chrome_ChildIOT> sendto(26<UDP:[0.0.0.0:56239]>, "\\204\\266\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\6google\\3com\\0\\0\\1\\0\\1", 28, 0, NULL, 0) = 28
1517<Chrome_ChildIOT> sendmmsg(113<UDP:[192.0.2.2:60798->10.255.255.53:53]>, [{msg_hdr={msg_name=NULL, msg_namelen=0}, msg_len=37}], 2, MSG_NOSIGNAL) = 2
1522<Chrome_ChildIOT> sendmmsg(103<UDP:[192.0.2.2:60195->10.255.255.53:53]>,  <unfinished ...>
1522<Chrome_ChildIOT> <... sendmmsg resumed>) = 2
9504<Chrome_ChildIOT> connect(25<UDPv6:[39428]>, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>
9504<Chrome_ChildIOT> <... connect resumed>) = 0
77<python> connect(5<TCP:[811]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("203.0.113.7")}, 16) = -1 EINPROGRESS (Operation now in progress)
77<python> write(7<UDP:[10.0.0.2:5001->192.0.2.1:123]>, "x", 1) = 1
77<python> sendto(6<UDP:[10.0.0.2:5000]>, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("192.0.2.1")}, 16) = 1
4592<pytest> connect(12<UNIX-STREAM:[36275]>, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
4592<pytest> connect(14<TCP:[35821]>, {sa_family=AF_INET, sin_port=htons(37205), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
4592<pytest> sendto(14<TCP:[127.0.0.1:34930->127.0.0.1:37205]>, "POST /auth/token HTTP/1.1\\r\\nHost:"..., 206, 0, NULL, 0) = 206
4592<pytest> sendto(15<UDP:[127.0.0.1:41000]>, "x", 1, 0, NULL, 0) = 1
4592<pytest> connect(16<TCPv6:[900]>, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
4592<pytest> write(3</tmp/log>, "sin_port=htons(53), sin_addr=inet_addr(\"8.8.8.8\")", 51) = 51
4592<pytest> writev(18<TCP:[127.0.0.1:8501->127.0.0.1:40000]>, [{iov_base="HTTP/1.1 200 OK\r\n", iov_len=17}], 1) = 17
4592<pytest> sendmsg(17<NETLINK:[4592]>, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12}, 0) = 20
"""


def test_counts_sends_and_route_checks_past_loopback_only() -> None:
    egress = measure(TRACE.splitlines())
    assert egress.sent == {
        ("Chrome_ChildIOT", "unknown peer (UDP)"): 1,  # gVisor shows no peer: counted
        ("Chrome_ChildIOT", "10.255.255.53:53"): 2,
        ("python", "203.0.113.7:443"): 1,
        ("python", "192.0.2.1:9"): 1,
        ("python", "192.0.2.1:123"): 1,  # libuv and others write() to connected sockets
    }
    assert egress.route_checks == {
        ("Chrome_ChildIOT", "8.8.8.8:53"): 1,
        ("Chrome_ChildIOT", "[2001:4860:4860::8888]:443"): 1,
    }
    assert egress.total() == 8


def test_a_loopback_only_trace_counts_nothing() -> None:
    loopback = [line for line in TRACE.splitlines() if line.startswith("4592<pytest>")]
    assert measure(loopback).total() == 0
