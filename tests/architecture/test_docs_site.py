"""The documentation site builds in strict mode: no broken link, anchor or nav entry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_builds_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").exists()


def test_the_order_state_drawing_matches_the_state_table() -> None:
    """docs/modules/order-states.* are generated from ecommerce.modules.orders.states; regenerate with
    ``python -m ecommerce.modules.orders.states`` when the table changes."""
    from ecommerce.modules.orders import states

    dot = ROOT / "docs" / "modules" / "order-states.dot"
    assert dot.read_text() == states.graphviz()
    svg = (ROOT / "docs" / "modules" / "order-states.svg").read_text()
    for state in states.STATES:
        assert state in svg
