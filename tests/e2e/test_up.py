"""``ecommerce up``: nginx and every service of a layout as real child processes of one command, on a
real SQLite file: the gateway answers, the demo tour passes through it, SIGTERM leaves no process behind,
a service that dies takes the others down with a non-zero exit naming it, and the split layout (no remote
facades yet) refuses in one line."""

from __future__ import annotations

import contextlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ecommerce.kernel.layout import SHIPPED
from tests.support.polling import eventually
from tests.support.processes import cli_env, free_port


@dataclass
class Up:
    process: subprocess.Popen[str]
    gateway: str
    lines: list[str] = field(default_factory=list)  # every line of its stdout and stderr so far

    def children(self) -> dict[int, str]:
        """pid -> command line of every live descendant of ``up`` (zombies excluded)."""
        return _descendants(self.process.pid)


def _processes() -> dict[int, tuple[int, str]]:
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


def _descendants(root: int) -> dict[int, str]:
    table = _processes()
    out: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, cmd) in table.items():
            if ppid == parent and pid not in out:
                out[pid] = cmd
                frontier.append(pid)
    return out


def _alive(pids: set[int]) -> set[int]:
    return pids & set(_processes())


def _layout(tmp_path: Path, app_port: int) -> Path:
    """The shipped monolith layout with its service on a free port."""
    text = (SHIPPED / "monolith.toml").read_text()
    assert '"127.0.0.1:8001"' in text
    path = tmp_path / "monolith.toml"
    path.write_text(text.replace('"127.0.0.1:8001"', f'"127.0.0.1:{app_port}"'))
    return path


@contextmanager
def up(tmp_path: Path) -> Iterator[Up]:
    """``ecommerce up --layout <monolith on free ports> --port <free>`` until the block ends; yields once
    it printed ``ready``."""
    port = free_port()
    env = cli_env(tmp_path, ECOMMERCE_RELAY_INTERVAL="0.2", ECOMMERCE_JOB_INTERVAL="0.5")
    proc = subprocess.Popen([sys.executable, "-m", "ecommerce", "up", "--layout", str(_layout(tmp_path, free_port())),
                             "--port", str(port), "--demo"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in proc.stdout or ()], daemon=True).start()
    shop = Up(proc, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        while not any(line.startswith("ready") for line in shop.lines):
            assert time.monotonic() < deadline, "\n".join(shop.lines)
            try:
                shop.lines.append(lines.get(timeout=1))
            except queue.Empty:
                assert proc.poll() is None, "\n".join(shop.lines)
        yield shop
    finally:
        if proc.poll() is None:
            proc.kill()  # a failed test: do not leave the children running either
            for pid in _descendants(proc.pid):
                subprocess.run(["kill", "-9", str(pid)], check=False)
            proc.wait()
        while not lines.empty():
            shop.lines.append(lines.get())


def _wait_gone(pids: set[int], timeout: float = 10) -> set[int]:
    with contextlib.suppress(AssertionError):  # the caller says which processes outlived the wait
        eventually(lambda: not _alive(pids), timeout, interval=0.1)
    return _alive(pids)


def test_up_runs_the_monolith_behind_nginx_and_sigterm_stops_everything(tmp_path: Path) -> None:
    with up(tmp_path) as shop:
        assert f"gateway {shop.gateway}" in "\n".join(shop.lines)
        children = shop.children()
        commands = list(children.values())
        assert any("serve --layout" in c and "--service app --demo" in c for c in commands), commands
        assert any("nginx" in c and str(tmp_path / "data" / "up" / "monolith") in c for c in commands), commands
        assert (tmp_path / "data" / "up" / "monolith" / "nginx.conf").read_text().startswith("# generated")

        assert httpx.get(f"{shop.gateway}/readyz", timeout=10).status_code == 200
        assert httpx.get(f"{shop.gateway}/api/v1/products", timeout=10).status_code == 200
        demo = subprocess.run([sys.executable, "-m", "ecommerce", "demo", "--url", shop.gateway],
                              cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True, timeout=180)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "POST /api/v1/orders" in demo.stdout and "POST /api/v1/payments" in demo.stdout

        shop.process.send_signal(signal.SIGTERM)
        assert shop.process.wait(timeout=60) == 0
        assert _wait_gone(set(children)) == set(), "orphaned child processes"
    text = "\n".join(shop.lines)
    # Every child's lines carry its name; the service logged its requests, nginx its start.
    assert "[app] serving on" in text
    assert "ecommerce up: stopping" in text
    assert not [line for line in shop.lines if line.startswith("[") and not line.startswith(("[app]", "[gateway]"))]


def test_a_dead_service_stops_up_with_its_name(tmp_path: Path) -> None:
    with up(tmp_path) as shop:
        children = shop.children()
        service = next(pid for pid, cmd in children.items() if "--service app" in cmd)
        subprocess.run(["kill", "-9", str(service)], check=True)
        assert shop.process.wait(timeout=60) == 1
        assert _wait_gone(set(children)) == set(), "the gateway outlived its service"
    assert any(line.startswith("ecommerce up: app exited with status -9; stopping the others")
               for line in shop.lines), shop.lines


def test_the_split_layout_refuses_in_one_line_like_serve(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    refused = subprocess.run([sys.executable, "-m", "ecommerce", "up", "--layout", "split"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert refused.stdout == ""
    serve = subprocess.run([sys.executable, "-m", "ecommerce", "serve", "--layout", "split", "--service", "core"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert serve.returncode == 2
    assert refused.stderr == serve.stderr
    assert len(refused.stderr.splitlines()) == 1 and "remote facades" in refused.stderr
    assert not (tmp_path / "data" / "up").exists()  # nothing was started or written


def test_ctrl_c_stops_everything_too(tmp_path: Path) -> None:
    with up(tmp_path) as shop:
        children = set(shop.children())
        assert len(children) >= 3  # the service, nginx's master and at least one worker
        shop.process.send_signal(signal.SIGINT)
        assert shop.process.wait(timeout=60) == 0
        assert _wait_gone(children) == set()


def _run_up(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecommerce", "up", "--layout", str(_layout(tmp_path, free_port())),
                           *args], cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True, timeout=120)


def test_a_gateway_port_in_use_stops_up_naming_the_gateway(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _run_up(tmp_path, "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Address already in use" in result.stderr and "[gateway]" in result.stderr
    assert "ecommerce up: gateway exited with status 1; stopping the others" in result.stderr
    assert "ready" not in result.stdout


def test_not_ready_in_time_stops_everything(tmp_path: Path) -> None:
    result = _run_up(tmp_path, "--port", str(free_port()), "--ready-timeout", "0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ecommerce up: not ready within 0 s: app, gateway; stopping everything" in result.stderr
    assert not [p for p, (_, cmd) in _processes().items() if str(tmp_path) in cmd]  # nothing left running
