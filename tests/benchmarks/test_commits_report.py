"""The commits-per-checkout page is generated from the committed results (text compared)."""

from __future__ import annotations

from benchmarks.commits.report import PAGE, RESULTS, render


def test_the_published_page_is_what_the_published_results_produce() -> None:
    assert (RESULTS / "commits.json").is_file() and (RESULTS / "commits-before.json").is_file()
    assert render() + "\n" == PAGE.read_text(), "stale page: run `python -m benchmarks.commits report`"
