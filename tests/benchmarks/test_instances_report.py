"""The instances page (one instance vs two with a replica) is generated from the committed results."""

from __future__ import annotations

import json

from benchmarks.instances import PAGE, RESULTS, render


def test_the_published_page_is_what_the_published_results_produce() -> None:
    report = json.loads(RESULTS.read_text())
    assert render(report) == PAGE.read_text(), "stale page: run `python -m benchmarks.instances --report`"
    # Every read endpoint was measured on both deployments, and the replica really served reads.
    assert set(report["endpoints"]) == {"products first page", "search", "product page (cached)", "recommendations"}
    assert report["replica_reads"] > 0 and len(report["ceilings"]) == 2
