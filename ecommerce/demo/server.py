"""Find the app the demo talks to, or start one for the length of the tour."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ecommerce.demo.client import DemoError

READY_TIMEOUT = 90.0


def ready(base_url: str) -> bool:
    """True when ``/readyz`` answers 200 (every module's database reachable)."""
    try:
        with urllib.request.urlopen(base_url + "/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def app_at(url: str | None, default_url: str, out: Callable[[str], None]) -> Iterator[str]:
    """Yield the base URL of a ready app: ``url`` if given, the configured one if it answers, else a
    fresh ``ecommerce serve --demo`` (same settings, a free port) that is stopped when the tour ends."""
    if url:
        if not ready(url.rstrip("/")):
            raise DemoError(f"no ready app at {url} (is `ecommerce serve` running there?)")
        yield url.rstrip("/")
        return
    if ready(default_url):
        out(f"using the app already running at {default_url}")
        yield default_url
        return
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # Short relay and job intervals so the asynchronous steps (order paid, emails sent) show at once.
    env = {"ECOMMERCE_RELAY_INTERVAL": "0.2", "ECOMMERCE_JOB_INTERVAL": "0.5", **os.environ}
    out(f"starting `ecommerce serve --demo` on {base} (stopped when the demo ends)")
    # The server's own log goes to a file (a pipe nobody reads would fill up and stall it).
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in the finally below, after the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecommerce", "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready(base):
            if proc.poll() is not None:
                log.seek(0)
                raise DemoError(f"`ecommerce serve --demo` exited with status {proc.returncode}:\n{log.read()}")
            if time.monotonic() > deadline:
                raise DemoError(f"`ecommerce serve --demo` was not ready within {READY_TIMEOUT:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
