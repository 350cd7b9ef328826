"""The SQL performance page is generated from the committed results, and says when a shape differs.

Rendering without charts needs no matplotlib, so this runs in the normal test suite: a page edited by
hand, or results committed without regenerating the page, fail here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks.sql.report import render

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "performance"
RESULTS = ROOT / "benchmarks" / "results"


def test_the_published_page_is_what_the_published_results_produce() -> None:
    paths = sorted(RESULTS.glob("sql-*.json"))
    assert [p.name for p in paths] == ["sql-postgres.json", "sql-sqlite.json"]
    text = render(paths, DOCS, draw=False)
    assert text == (DOCS / "sql.md").read_text(), "stale page: run `python -m benchmarks.sql report`"
    charts = re.findall(r"\]\(img/([^)]+\.png)\)", text)
    assert len(charts) == 7 and all((DOCS / "img" / name).is_file() for name in charts)


def _bench(variant: str, depth: int, seconds: float) -> dict[str, object]:
    info = {"suite": "pagination", "backend": "postgres", "scale": 1, "variant": variant, "param": depth,
            "queries": 1, "rows": 20, "plan": None}
    return {"fullname": f"{variant}-{depth}", "extra_info": info,
            "stats": {"median": seconds, "min": seconds, "rounds": 5}}


def test_a_result_without_the_expected_shape_is_called_out(tmp_path: Path) -> None:
    # keyset growing with depth exactly like OFFSET: the page must not call that "as expected"
    benchmarks = [_bench(v, d, 0.001 * (1 + d / 100)) for v in ("offset", "keyset") for d in (0, 10_000)]
    results = tmp_path / "sql-postgres.json"
    results.write_text(json.dumps({"benchmarks": benchmarks, "machine_info": {"scale": 1}, "datetime": "x"}))
    text = render([results], tmp_path, draw=False)
    row = next(line for line in text.splitlines() if line.startswith("| keyset flat while OFFSET grows with depth"))
    assert "**differs**" in row and "keyset 101" in row
