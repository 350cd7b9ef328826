"""Smoke run of the lake benchmark (``python -m benchmarks.recommendations_rebuild``) at a tiny size.

Not a timing test: it proves the benchmark still runs end to end — append, both rebuild engines over
JSON lines and over Parquet, compaction, the incremental path — and that its own checks (every rebuild
ends with the incremental model's tables) pass, and that it writes every figure the docs quote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_lake_benchmark_runs_and_its_rebuilds_agree(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks.recommendations_rebuild", "--orders", "150",
                          "--incremental", "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    assert "every rebuild: same tables" in run.stdout
    figures = json.loads(out.read_text())
    assert figures["orders"] == 150 and figures["order_events"] <= figures["lake_events"]
    for key in ("fold_jsonl", "duckdb_jsonl", "fold_parquet", "duckdb_parquet"):
        assert figures[f"{key}_s"] > 0 and figures[f"{key}_compute_s"] > 0
        assert figures[f"{key}_cpu_s"] > 0 and figures[f"{key}_compute_cpu_s"] > 0  # CPU beside wall time
    assert figures["duckdb_parquet_fetch_cpu_s"] > 0 and figures["compaction_cpu_s"] > 0
    assert figures["compaction_s"] > 0 and figures["compacted_files"] > 0 and figures["incremental_s"] > 0
