"""Run Debian's nginx as a child process: its own prefix (pid, temp files) in a temporary directory, in
the foreground, on the port the generated configuration names. Never the system service."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.processes import wait_until


def binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if found is None:
        pytest.fail("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    return found


def _globals() -> str:
    # As root, nginx's workers would switch to an unprivileged user that cannot enter pytest's 0700
    # temporary directories: keep them as the current user.
    return "daemon off;" + (f" user {getpass.getuser()};" if os.geteuid() == 0 else "")


def check(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a configuration file."""
    prefix.mkdir(parents=True, exist_ok=True)
    return subprocess.run([binary(), "-t", "-p", str(prefix), "-c", str(conf), "-e", "stderr", "-g", _globals()],
                          capture_output=True, text=True, timeout=30)


def _listening(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


@contextmanager
def running(conf: Path, prefix: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    """nginx with ``conf`` until the block ends; yields once ``port`` accepts connections."""
    prefix.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([binary(), "-p", str(prefix), "-c", str(conf), "-e", "stderr", "-g", _globals()],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(proc, lambda: _listening(port), "nginx", timeout=20)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: fast shutdown of the master and its workers
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
