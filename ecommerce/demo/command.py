"""``ecommerce demo [--url URL]``: run the tour against a given app, the configured one, or a fresh one."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ecommerce.demo.client import Client, DemoError
from ecommerce.demo.server import app_at
from ecommerce.demo.tour import Tour

EXIT_FAILED = 1


def run(url: str | None, default_url: str, *, wait: float = 30.0, out: Callable[[str], None] = print) -> int:
    """0 when every step got the answer it needed; 1 with the failing call on stderr otherwise."""
    try:
        with app_at(url, default_url, out) as base:
            Tour(Client(base, out=out), out=out, wait=wait).run()
    except DemoError as error:
        out("")
        print(f"ecommerce demo: FAILED: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0
