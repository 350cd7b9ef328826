"""``python -m benchmarks.sql run|report``: run every SQL suite, then write the docs page.

    python -m benchmarks.sql run --scale 10 --db postgres      # one backend at scale 10
    python -m benchmarks.sql run --scale 1 --db sqlite,postgres -k pagination
    python -m benchmarks.sql report                            # docs/performance/sql.md from the JSON

``run`` writes ``benchmarks/results/sql-<db>.json`` per backend (pytest-benchmark's JSON with, per
variant, the query count, rows and EXPLAIN plan in ``extra_info``, and the database versions and load
average in ``machine_info``) and then regenerates the page, unless ``--no-report``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def run(args: argparse.Namespace) -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    status = 0
    for db in [d.strip() for d in args.db.split(",") if d.strip()]:
        env = {**os.environ, "BENCH_SQL_SCALE": str(args.scale), "BENCH_SQL_DBS": db}
        out = RESULTS / f"sql-{db}.json"
        if args.k:  # a partial run updates its benchmarks inside the last full run's results
            out = RESULTS / f"sql-{db}.partial.json"
        command = [sys.executable, "-m", "pytest", str(HERE), "-p", "no:cacheprovider", "-q",
                   f"--benchmark-json={out}", "--benchmark-sort=name", "--benchmark-columns=min,median,max,rounds"]
        if args.k:
            command += ["-k", args.k]
        print("+", " ".join(command), f"(scale {args.scale})", flush=True)
        status = subprocess.call(command, cwd=ROOT, env=env) or status
        if args.k and out.exists():
            merge(out, RESULTS / f"sql-{db}.json")
    if not args.no_report:
        status = report(args) or status
    return status


def merge(partial: Path, full: Path) -> None:
    """Replace the re-run benchmarks in ``full`` (by name), noting when and how loaded the rerun was."""
    new = json.loads(partial.read_text())
    partial.unlink()
    if not full.exists():
        full.write_text(json.dumps(new, indent=2))
        return
    data = json.loads(full.read_text())
    names = {b["fullname"] for b in new["benchmarks"]}
    data["benchmarks"] = [b for b in data["benchmarks"] if b["fullname"] not in names] + new["benchmarks"]
    data["machine_info"].setdefault("reruns", []).append({
        "datetime": new.get("datetime"), "load_average": new["machine_info"].get("load_average"),
        "benchmarks": sorted(names)})
    full.write_text(json.dumps(data, indent=2))


def report(args: argparse.Namespace) -> int:
    from benchmarks.sql.report import write_report

    page = write_report(sorted(RESULTS.glob("sql-*.json")), ROOT / "docs" / "performance")
    print(f"wrote {page.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sql", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the suites (and regenerate the page)")
    r.add_argument("--scale", type=int, default=1, help="dataset scale (1 = 10k orders)")
    r.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    r.add_argument("-k", help="only the benchmarks matching this pytest -k expression")
    r.add_argument("--no-report", action="store_true", help="do not regenerate the docs page")
    r.set_defaults(handler=run)
    sub.add_parser("report", help="write docs/performance/sql.md and its charts from the results").set_defaults(
        handler=report)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
