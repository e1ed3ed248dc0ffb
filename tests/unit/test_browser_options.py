"""Every browser test launches Chromium one way, and that way leaves it only loopback.

The switches' effect is measured by tests/dashboard/test_browser_egress.py under strace;
these checks catch a lost or weakened switch without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser import CHROMIUM_ARGS, HOST_RESOLVER_RULES, launch_options

TESTS = Path(__file__).resolve().parents[1]


def test_every_name_and_address_but_loopback_fails_inside_chromium() -> None:
    rules = [r.strip() for r in HOST_RESOLVER_RULES.split(",")]
    # ^NOTFOUND fails the request in the host mapper; ~NOTFOUND would reach the
    # resolver, which probes IPv6 reachability towards the internet first.
    assert rules[0] == "MAP * ^NOTFOUND"
    assert set(rules[1:]) == {"EXCLUDE localhost", "EXCLUDE 127.0.0.1"}
    assert f"--host-resolver-rules={HOST_RESOLVER_RULES}" in CHROMIUM_ARGS
    assert "--webrtc-ip-handling-policy=disable_non_proxied_udp" in CHROMIUM_ARGS
    assert launch_options() == {"executable_path": "/usr/bin/chromium", "args": [*CHROMIUM_ARGS]}


def test_playwrights_feature_lists_are_not_replaced() -> None:
    # Chromium keeps only the last --disable-features (and --enable-features): one here
    # would drop Playwright's, which turns off OptimizationHints, NetworkTimeServiceQuerying
    # and MediaRouter among others.
    assert not [
        a for a in CHROMIUM_ARGS if a.startswith(("--disable-features", "--enable-features"))
    ]


def test_every_browser_test_launches_chromium_through_launch_options() -> None:
    launches = {
        f"{path.relative_to(TESTS)}:{n}: {line.strip()}"
        for path in TESTS.rglob("*.py")
        if path != Path(__file__)
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.(launch\w*|connect_over_cdp)\(", line)
    }
    assert launches, "no browser launch found: the pattern above is out of date"
    assert [x for x in launches if ".launch(**launch_options(" not in x] == []
