"""The HTTP performance page is generated from the committed results (text compared; no matplotlib)."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.http.report import IMG, PAGE, _verdict, render

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "http" / "results"


def test_the_published_page_is_what_the_published_results_produce() -> None:
    assert sorted(p.name for p in RESULTS.glob("*.json")) == ["postgres.json", "sqlite.json"]
    text = render(RESULTS, draw=False)
    assert text + "\n" == PAGE.read_text(), "stale page: run `python -m benchmarks.http.report`"
    linked = re.findall(r"\]\(img/([^)]+\.(?:png|svg))\)", text)
    assert len(linked) >= 2 and all((IMG / name).is_file() for name in linked)


def test_a_missed_target_says_by_how_much() -> None:
    assert _verdict(0.35, 0.7, " x") == "**missed** by 50 % (0.35 x < 0.7 x)"
    assert _verdict(0.71, 0.7, " x").startswith("**met**")
