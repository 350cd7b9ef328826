"""Processes the benchmark starts: the app (``ecommerce serve``), the ceilings app, a throw-away
PostgreSQL database. Each is stopped the way an operator would (SIGINT), then killed if it hangs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ADMIN_URL = os.environ.get("ECOMMERCE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Throttling stays on (its cost is part of every request) but never trips during a load run.
UNTHROTTLED = "100000000/minute"


@contextmanager
def autocommit_cursor(url: str) -> Iterator[Any]:
    """A cursor on its own autocommit connection to ``url`` (benchmark bookkeeping: each statement is its
    own transaction, nothing is left open), closed afterwards."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOMMERCE_")}
    env.update(
        ECOMMERCE_DATA_DIR=str(data_dir),
        ECOMMERCE_DATABASE_URL=database_url,
        ECOMMERCE_LOG_LEVEL="WARNING",
        ECOMMERCE_RATE_LIMIT=UNTHROTTLED,
        ECOMMERCE_AUTH_RATE_LIMIT=UNTHROTTLED,
        ECOMMERCE_USER_RATE_LIMIT=UNTHROTTLED,
    )
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "ecommerce", *args], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ecommerce {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout} s")
        time.sleep(0.2)


@contextmanager
def running(cmd: list[str], env: dict[str, str], ready_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``cmd``, wait until ``ready_url`` answers 200, stop it when the block ends."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            _wait_ready(ready_url, proc)
        except RuntimeError as exc:  # say why: the server's last lines, not just its exit status
            tail = log.read_text(errors="replace").splitlines()[-40:]
            raise RuntimeError(f"{exc}\n--- last lines of {log} ---\n" + "\n".join(tail)) from None
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def app_server(env: dict[str, str], workers: int, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    cmd = [sys.executable, "-m", "ecommerce", "serve", "--no-migrate", "--port", str(port), "--workers", str(workers)]
    base = f"http://127.0.0.1:{port}"
    with running(cmd, env, f"{base}/readyz", log) as proc:
        yield base, proc


@contextmanager
def ceilings_server(database_url: str, payload: Path, workers: int, log: Path) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "benchmarks.http.ceilings", "--port", str(port), "--workers", str(workers),
           "--database", database_url, "--payload", str(payload)]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    base = f"http://127.0.0.1:{port}"
    with running(cmd, env, f"{base}/json", log):
        yield base


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    import psycopg2

    name = f"ecommerce_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield f"{ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
