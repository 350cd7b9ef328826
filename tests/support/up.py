"""``ecommerce up`` as a real child process for a test, and the processes it started (from /proc)."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import free_port


@dataclass
class Up:
    process: subprocess.Popen[str]
    gateway: str
    lines: list[str] = field(default_factory=list)  # every line of its stdout and stderr so far
    unread: queue.Queue[str] = field(default_factory=queue.Queue)  # lines not yet moved into ``lines``

    def read(self) -> list[str]:
        """Every line so far, including those written since the last look."""
        while not self.unread.empty():
            self.lines.append(self.unread.get())
        return self.lines

    def children(self) -> dict[int, str]:
        """pid -> command line of every live descendant of ``up`` (zombies excluded)."""
        return descendants(self.process.pid)


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every live process, from /proc."""
    found: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            found[int(entry.name)] = (int(fields[1]), cmdline)
    return found


def descendants(root: int) -> dict[int, str]:
    table = processes()
    out: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, cmd) in table.items():
            if ppid == parent and pid not in out:
                out[pid] = cmd
                frontier.append(pid)
    return out


def alive(pids: set[int]) -> set[int]:
    return pids & set(processes())


@contextmanager
def running_up(tmp_path: Path, layout: Path, env: dict[str, str], *, demo: bool = True,
               ready_within: float = 120, port: int | None = None, instances: int | None = None) -> Iterator[Up]:
    """``ecommerce up --layout LAYOUT --port <free> [--demo] [--instances N]`` until the block ends; yields once
    it printed ``ready``. A failed test kills ``up`` and every process under it. ``port``: the gateway's
    (default: a free one)."""
    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ecommerce", "up", "--layout", str(layout), "--port", str(port),
                             *(["--demo"] if demo else []), *(["--instances", str(instances)] if instances else [])],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    shop = Up(proc, f"http://127.0.0.1:{port}")
    lines = shop.unread
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in proc.stdout or ()], daemon=True).start()
    try:
        deadline = time.monotonic() + ready_within
        while not any(line.startswith("ready") for line in shop.lines):
            assert time.monotonic() < deadline, "\n".join(shop.lines)
            try:
                shop.lines.append(lines.get(timeout=1))
            except queue.Empty:
                assert proc.poll() is None, "\n".join(shop.lines)
        yield shop
    finally:
        if proc.poll() is None:
            # Children first, listed while ``up`` still lives: once it is gone they belong to init and
            # no longer show as its descendants (every instance would outlive the test).
            children = descendants(proc.pid)
            proc.kill()
            for pid in children:
                subprocess.run(["kill", "-9", str(pid)], check=False)
            proc.wait()
        shop.read()


def wait_gone(pids: set[int], timeout: float = 10) -> set[int]:
    """The ones of ``pids`` still alive after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)
