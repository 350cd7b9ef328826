"""``ecommerce demo`` as a new hire runs it: a real server, real HTTP, every step of the tour checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ecommerce.kernel.registry import discover
from tests.support import databases
from tests.support.processes import cli_env, free_port, serving

#: Drills that run whole servers on PostgreSQL share one xdist worker: two at once can exhaust the
#: server's 100 connections (each server keeps a pool per module and thread), and then a request fails.
pytestmark = pytest.mark.xdist_group("postgres-servers")

STEPS = ("Register a customer and sign in", "Browse the catalog", "Search", "Fill the cart and check out",
         "Pay", "Notifications", "Recommendations")


def demo(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecommerce", "demo", *args],
        cwd=tmp_path, env=cli_env(tmp_path, **env), capture_output=True, text=True, timeout=300,
    )


def assert_full_tour(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    for number, title in enumerate(STEPS, start=1):
        assert f"{number}. {title}" in result.stdout
    assert "skipped" not in result.stdout  # every module on the tour is installed and answered
    assert "order #" in result.stdout and "is now paid" in result.stdout
    assert "-> POST /api/v1/payments" in result.stdout and "done:" in result.stdout
    assert "[sent] Payment received for order #" in result.stdout  # the email went out (to the mailbox)
    assert "(bought_together)" in result.stdout


def test_demo_starts_its_own_server_on_the_embedded_default(tmp_path: Path) -> None:
    # Nothing answers on the configured port, so the demo starts `ecommerce serve --demo` and stops it.
    result = demo(tmp_path, ECOMMERCE_PORT=str(free_port()))
    assert_full_tour(result)
    assert "starting `ecommerce serve --demo`" in result.stdout
    emails = list((tmp_path / "data" / "mailbox").rglob("*.eml"))  # no SMTP configured: the mailbox directory
    assert any("Payment received" in e.read_text() for e in emails)


@pytest.mark.postgres
def test_demo_drives_a_running_server_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    databases.reset_schemas(postgres_url, list(discover()))
    with serving(tmp_path, "--demo", ECOMMERCE_DATABASE_URL=postgres_url, ECOMMERCE_RELAY_INTERVAL="0.2",
                 ECOMMERCE_JOB_INTERVAL="0.5") as base:
        assert_full_tour(demo(tmp_path, "--url", base))
        again = demo(tmp_path, "--url", base)  # a second customer on the same data: still passes
        assert_full_tour(again)


def test_demo_without_an_app_fails_clearly(tmp_path: Path) -> None:
    result = demo(tmp_path, "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "FAILED: no ready app" in result.stderr and "Traceback" not in result.stderr
