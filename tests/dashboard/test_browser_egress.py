"""Chromium, launched as every browser test launches it, sends nothing past loopback.

Counted, not trusted from its switches: the browser's whole process tree runs under
strace (tests/egress.py), with the library every test process has preloaded
(tests/preload.py), while a page served on 127.0.0.1 asks for things outside (a
fetch, an image, a WebSocket, a STUN server, a form autofill could look up) and
Chromium's own background services (update checks, sign-in, autofill) have their
start-up window. The page names only reserved example.com hosts: should the switches
ever fail, the most that leaves is a DNS query for them. (That the resolver rules
catch IP literals too was checked by hand; a literal here would send a real SYN then.)
"""

from __future__ import annotations

import os
import shlex
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import preload
from tests.browser import CHROMIUM, launch_options
from tests.egress import STRACE, measure

pytestmark = pytest.mark.slow

OUTSIDE = ("https://example.com/", "https://tiles.example.com/0/0/0.png")
PAGE = f"""<!doctype html><title>egress</title>
<form><input autocomplete="name"><input autocomplete="email">
<input autocomplete="street-address"><input autocomplete="address-level2"></form>
<img src="{OUTSIDE[1]}">
<script>
fetch("{OUTSIDE[0]}").catch(() => {{}});
new WebSocket("wss://example.com/");
const pc = new RTCPeerConnection({{iceServers: [{{urls: "stun:stun.example.com:3478"}}]}});
pc.createDataChannel("probe");
pc.createOffer().then((offer) => pc.setLocalDescription(offer));
</script>""".encode()


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path == "/"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE) if found else 0))
        self.end_headers()
        if found:
            self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _serve() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_chromium_sends_nothing_past_loopback(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(STRACE[0]), "strace is missing: make /usr/bin/strace"
    status = Path("/proc/self/status").read_text()
    # A traced process cannot trace its children: strace around pytest breaks this test.
    assert "TracerPid:\t0\n" in status, "already traced: run this test outside strace"
    trace = tmp_path / "chromium.strace"
    traced = tmp_path / "chromium"
    traced.write_text(
        f'#!/bin/sh\nexec {shlex.join([*STRACE, "-o", str(trace)])} {CHROMIUM} "$@"\n'
    )
    traced.chmod(0o755)

    refusals = Path(os.environ[preload.LOG_VARIABLE])
    before = refusals.stat().st_size if refusals.exists() else 0
    failed: dict[str, str | None] = {}
    with _serve() as port, sync_playwright() as pw:
        browser = pw.chromium.launch(**launch_options(str(traced)))
        try:
            page = browser.new_page()
            page.on("requestfailed", lambda r: failed.setdefault(r.url, r.failure))
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("textbox").first.fill("Carana")
            page.wait_for_timeout(5000)  # background services start within a second or two
        finally:
            browser.close()

    # The page did ask, and Chromium refused before any look-up.
    assert {url: failed.get(url) for url in OUTSIDE} == dict.fromkeys(
        OUTSIDE, "net::ERR_NAME_NOT_RESOLVED"
    )
    log = trace.read_text(errors="replace")
    assert f"htons({port})" in log, "the trace missed the page's own connection"
    # Not one call past loopback reached the kernel: not even the route checks that
    # Chromium's resolver and WebRTC make, which the preloaded library refused.
    egress = measure(log.splitlines())
    assert (egress.sent, egress.route_checks) == ({}, {})
    refused = refusals.read_bytes()[before:].decode()
    assert "[2001:4860:4860::8888]:443" in refused, "Chromium ran without the library"
