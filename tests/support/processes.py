"""Run the real ``ecommerce`` command in a child process, as a user would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The machine's environment without any ECOMMERCE_* variable, plus a private data dir and cheap argon2."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ECOMMERCE_")}
    clean.update(
        ECOMMERCE_DATA_DIR=str(tmp_path / "data"),
        ECOMMERCE_ARGON2_TIME_COST="1",
        ECOMMERCE_ARGON2_MEMORY_COST="8",
        ECOMMERCE_LOG_LEVEL="WARNING",
    )
    clean.update(extra)
    return clean


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(cwd: Path, env: dict[str, str], *args: str,
                   stop: signal.Signals = signal.SIGINT) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``ecommerce serve ARGS`` on a free port until the block ends or the process dies; yields the process
    and its base URL once ``/readyz`` answers. ``stop`` is how it is asked to end (SIGINT: a clean shutdown)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecommerce", "serve", "--port", str(port), *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise AssertionError(f"ecommerce serve exited:\n{proc.stdout.read() if proc.stdout else ''}")
            if time.monotonic() > deadline:
                raise AssertionError("ecommerce serve did not become ready within 60 s")
            time.sleep(0.1)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.send_signal(stop)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def serving(tmp_path: Path, *args: str, **env: str) -> Iterator[str]:
    """``ecommerce serve ARGS`` on a free port until the block ends; yields the base URL once ready."""
    with server_process(tmp_path, cli_env(tmp_path, **env), *args) as (_, base):
        yield base

