"""How every browser test launches Chromium: headless, and unable to reach past loopback.

Debian's Chromium (Playwright's own browser download is not reachable from here).
Playwright puts its own defaults first (--disable-background-networking,
--disable-component-update, --disable-extensions, --metrics-recording-only, and a
--disable-features list with OptimizationHints, NetworkTimeServiceQuerying, MediaRouter).
With those and the switches the dashboard test used to pass, one run of it still sent
DNS queries 60 times (update.googleapis.com, accounts.google.com,
content-autofill.googleapis.com) past loopback (issue 23). With these it sends none:
tests/dashboard/test_browser_egress.py counts it under strace.
"""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"

# Every name and every address but the loopback ones fails inside Chromium, before any
# lookup: nothing can resolve, so nothing (updates, sign-in, autofill, DNS-over-HTTPS,
# translation, safe browsing) can connect. "^NOTFOUND" fails the request in Chromium's
# host mapper; the commonly quoted "~NOTFOUND" is a real (invalid) host name handed on
# to the resolver, which first probes IPv6 reachability with a UDP connect() to
# [2001:4860:4860::8888]:443 for every request. "*" also matches IP literals, so a page
# cannot dodge the rule with a numeric address. No --proxy-server on top: Chromium
# resolves a proxy's address like any host (a route check each time), and the rule
# has already failed whatever a proxy would catch.
HOST_RESOLVER_RULES = "MAP * ^NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    f"--host-resolver-rules={HOST_RESOLVER_RULES}",
    # WebRTC sends no UDP of its own: no STUN, no mDNS announcements of host candidates
    # (without this a page's RTCPeerConnection multicasts to 224.0.0.251:5353). This
    # build knows the switch by this name, not as --force-webrtc-ip-handling-policy.
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-quic",
    "--no-first-run",
    "--no-pings",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    # No --disable-features or --enable-features here: Chromium keeps only the last of
    # each, so one would silently replace Playwright's list instead of adding to it.
)


def launch_options(executable: str = CHROMIUM) -> dict[str, Any]:
    """Keyword arguments for Playwright's `chromium.launch`; `executable` is for a
    wrapper that runs Chromium under strace."""
    return {"executable_path": executable, "args": list(CHROMIUM_ARGS)}
