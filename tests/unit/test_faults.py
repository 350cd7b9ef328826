"""The crash points: a no-op unless ECOMMERCE_CRASH_AT names them, a real SIGKILL when it does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ecommerce.kernel import faults

SCRIPT = "from ecommerce.kernel.faults import crash_point; crash_point('checkout.after_reserve'); print('alive')"


def run(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ECOMMERCE_")}
    return subprocess.run([sys.executable, "-c", SCRIPT], env={**clean, **env}, capture_output=True, text=True,
                          timeout=60)


def test_a_named_point_kills_the_process_by_sigkill() -> None:
    died = run(ECOMMERCE_CRASH_AT="checkout.before_order_commit,checkout.after_reserve")
    assert died.returncode == -9 and died.stdout == ""


def test_other_points_and_production_are_left_alone() -> None:
    assert run(ECOMMERCE_CRASH_AT="checkout.after_order_commit").stdout.strip() == "alive"
    assert run().stdout.strip() == "alive"
    spared = run(ECOMMERCE_CRASH_AT="checkout.after_reserve", ECOMMERCE_ENV="production")
    assert spared.returncode == 0 and spared.stdout.strip() == "alive"


def test_an_unknown_point_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown crash point"):
        faults.crash_point("checkout.somewhere")
