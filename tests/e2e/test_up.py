"""``ecommerce up``: nginx and every service of a layout as real child processes of one command, on a
real SQLite file: the gateway answers, the demo tour passes through it, SIGTERM leaves no process behind,
and a service that dies takes the others down with a non-zero exit naming it (the split layout:
tests/e2e/test_split_layout.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from ecommerce.kernel.layout import SHIPPED
from tests.support.processes import cli_env, free_port
from tests.support.up import Up, processes, running_up, wait_gone


def _layout(tmp_path: Path, app_port: int) -> Path:
    """The shipped monolith layout with its service on a free port."""
    text = (SHIPPED / "monolith.toml").read_text()
    assert '"127.0.0.1:8001"' in text
    path = tmp_path / "monolith.toml"
    path.write_text(text.replace('"127.0.0.1:8001"', f'"127.0.0.1:{app_port}"'))
    return path


@contextmanager
def up(tmp_path: Path) -> Iterator[Up]:
    """``ecommerce up --layout <monolith on free ports> --port <free> --demo`` until the block ends."""
    env = cli_env(tmp_path, ECOMMERCE_RELAY_INTERVAL="0.2", ECOMMERCE_JOB_INTERVAL="0.5")
    with running_up(tmp_path, _layout(tmp_path, free_port()), env) as shop:
        yield shop


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
        assert wait_gone(set(children)) == set(), "orphaned child processes"
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
        assert wait_gone(set(children)) == set(), "the gateway outlived its service"
    assert any(line.startswith("ecommerce up: app exited with status -9; stopping the others")
               for line in shop.lines), shop.lines


def test_ctrl_c_stops_everything_too(tmp_path: Path) -> None:
    with up(tmp_path) as shop:
        children = set(shop.children())
        assert len(children) >= 3  # the service, nginx's master and at least one worker
        shop.process.send_signal(signal.SIGINT)
        assert shop.process.wait(timeout=60) == 0
        assert wait_gone(children) == set()


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
    assert not [p for p, (_, cmd) in processes().items() if str(tmp_path) in cmd]  # nothing left running
