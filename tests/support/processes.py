"""Run the real ``ecommerce`` command in a child process, as a user would."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.polling import eventually


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


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (the instances of a layout's service).

    Chosen below the kernel's ephemeral range: every outgoing connection (a client, a database driver,
    nginx to an upstream) and every ``free_port()`` takes its local port from that range, so a port picked
    there could be taken by one of them before the last instance binds it, seconds later."""
    low = _ephemeral_low()
    while True:
        first = random.randrange(10000, low - count) if low - count > 10000 else free_port()
        if first + count > 65536:
            continue
        try:
            for offset in range(count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", first + offset))
        except OSError:
            continue
        return first


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def wait_until(proc: subprocess.Popen[str], ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll ``ready`` (a connection error counts as not yet) until it holds; fail with the child's output
    if it exits first, or after ``timeout`` seconds."""
    def probe() -> bool:
        try:
            if ready():
                return True
        except (httpx.TransportError, OSError):
            pass
        if proc.poll() is not None:  # no point waiting: fail at once (pytest.fail is not retried)
            pytest.fail(f"{what} exited:\n{proc.stdout.read() if proc.stdout else ''}", pytrace=False)
        return False

    eventually(probe, timeout, interval=0.1, what=f"{what} becoming ready")


@contextmanager
def server_process(cwd: Path, env: dict[str, str], *args: str, stop: signal.Signals = signal.SIGINT,
                   port: int | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``ecommerce serve ARGS`` on a free port (or ``port``) until the block ends or the process dies; yields
    the process and its base URL once ``/readyz`` answers. ``stop`` is how it is asked to end (SIGINT: a
    clean shutdown)."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecommerce", "serve", "--port", str(port), *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(proc, lambda: httpx.get(f"{base}/readyz", timeout=1).status_code == 200, "ecommerce serve")
        yield proc, base
    finally:
        end(proc, stop)


def end(proc: subprocess.Popen[str], how: signal.Signals) -> None:
    """Ask a child to end with ``how`` (unless it already has); SIGKILL it after 30 s. Then SIGKILL whatever
    is left of its process group (it was started in a session of its own): a server killed after the 30 s,
    or one that crashed, leaves its workers and Sanic's multiprocessing manager behind, which would
    outlive the test (and the run)."""
    if proc.poll() is None:
        proc.send_signal(how)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def serving(tmp_path: Path, *args: str, **env: str) -> Iterator[str]:
    """``ecommerce serve ARGS`` on a free port until the block ends; yields the base URL once ready."""
    with server_process(tmp_path, cli_env(tmp_path, **env), *args) as (_, base):
        yield base


def plugin_env(tmp_path: Path, distribution: str, entry_points: dict[str, str]) -> dict[str, str]:
    """The environment of a child process in which ``entry_points`` (module name -> ``package:attribute``)
    are installed modules: a ``.dist-info`` with those ``ecommerce.modules`` entry points on PYTHONPATH,
    next to the repository root (so ``tests.support`` packages import). What ``pip install`` of a
    third-party module leaves behind, without installing anything."""
    site = tmp_path / "site"
    info = site / f"{distribution}-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0\n")
    lines = [f"{name} = {target}" for name, target in entry_points.items()]
    (info / "entry_points.txt").write_text("[ecommerce.modules]\n" + "\n".join(lines) + "\n")
    return {"PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).resolve().parents[2])])}


@contextmanager
def cli_process(cwd: Path, env: dict[str, str], *args: str, ready: str | None = None,
                log: Path | None = None) -> Iterator[subprocess.Popen[str]]:
    """``ecommerce ARGS`` in the background (output to ``log``) until the block ends, then SIGTERM (SIGKILL
    after 30 s). With ``ready``, yields once that text is in the output or the process has exited (a
    process meant to crash may die first); the caller checks which."""
    log = log or cwd / f"ecommerce-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ecommerce", *args], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        if ready is not None:
            try:
                eventually(lambda: ready in log.read_text() or proc.poll() is not None, timeout=60)
            except AssertionError:
                raise AssertionError(f"ecommerce {' '.join(args)} printed no {ready!r} within 60 s:\n{log.read_text()}"
                                     ) from None
        yield proc
    finally:
        end(proc, signal.SIGTERM)
