"""``python -m benchmarks.recommendations_report``: docs/performance/lake.md from the committed results.

``benchmarks/results/recommendations-rebuild-sqlite.json`` and ``-postgres.json`` are what
``python -m benchmarks.recommendations_rebuild --orders 100000 [--database-url ...] --json FILE`` wrote;
the page's tables, ratios and verdicts on the targets are computed from them, never typed in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "performance" / "lake.md"
#: The targets of the lake work: DuckDB at least this many times the fold's rate, the whole rebuild under
#: this many seconds at scale 10.
RATIO_TARGET, SECONDS_TARGET = 50.0, 10.0
ENGINES = (("fold", "Python fold"), ("duckdb", "DuckDB"))
FILES = (("jsonl", "JSON lines"), ("parquet", "Parquet"))

HEAD = """# Data lake and recommendations rebuild

How fast the [data lake](../events.md#the-data-lake) takes events, compacts closed days to Parquet, and
rebuilds the [recommendations](../modules/recommendations.md#rebuilding-from-the-data-lake) model from
them with the Python fold and with DuckDB ([ADR 0019](../adr/0019-recommendations-from-an-event-log-data-lake.md)).

```console
$ python -m benchmarks.recommendations_rebuild --orders 100000 --json recommendations-rebuild-sqlite.json
$ python -m benchmarks.recommendations_rebuild --orders 100000 --database-url postgresql://... --json ...
$ python -m benchmarks.recommendations_rebuild --orders 2000 --incremental     # + the handlers' path
$ python -m benchmarks.recommendations_report                                  # this page, from those files
```

The benchmark (`benchmarks/recommendations_rebuild.py`, not a timed test; a smoke run at 150 orders is in
`tests/benchmarks/test_recommendations_rebuild_smoke.py`) writes the events of `--orders` orders with the
seeded dataset's shape (`ecommerce/devtools/dataset/events.py`: placement, payment, status changes,
refunds; the dataset's mix of final states; 1-5 products of `orders / 10`, a few popular; two years of
daily partitions) to a fresh lake, then in **one run** on a fresh database: both rebuild engines over the
JSON lines, compaction of every day, both engines again over the Parquet files. Every rebuild must end
with the same tables (it asserts so; with `--incremental` also equal to the handlers' path). Each timing
is the median of `--repeat` runs (3 here), for both engines alike, in wall time and in CPU time of the
benchmark's process (user and system, DuckDB's worker threads included): on a shared machine the CPU time
moves far less with what other processes do, so it is the fairer comparison of the engines; wall time is
what a user waits. Three figures per rebuild:

- **whole**: what `ecommerce recommendations rebuild` does — lock the model, read the lake, compute,
  delete and bulk-load the module's tables, commit;
- **compute**: read the events and compute the model's rows — the fold's as Python lists, DuckDB's in
  its own memory (where the load streams them from);
- **compute + fetch** (DuckDB only): the same rows also turned into Python tuples, the form the fold's
  compute ends with — the like-for-like comparison of the two engines' compute parts.
"""


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _num(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def _load_average(f: dict[str, Any]) -> str:
    if "load_before" not in f:
        return "load average not recorded"
    return (f"load average {f['load_before'][0]:.1f} before and {f['load_after'][0]:.1f} after "
            f"(1-minute; {f.get('cpus', 2)} cores)")


def _ratio(f: dict[str, Any], files: str, part: str, cpu: bool = False) -> float:
    """The fold's time over DuckDB's for one part (``whole``, ``compute``, ``fetch``), wall or CPU."""
    unit = "cpu_s" if cpu else "s"
    fold = f[f"fold_{files}_compute_{unit}"] if part != "whole" else f[f"fold_{files}_{unit}"]
    duck = {"whole": f"duckdb_{files}_{unit}", "compute": f"duckdb_{files}_compute_{unit}",
            "fetch": f"duckdb_{files}_fetch_{unit}"}[part]
    return float(fold / f[duck])


def _has_cpu(f: dict[str, Any]) -> bool:
    return "duckdb_parquet_cpu_s" in f


def _cpu(f: dict[str, Any], key: str) -> str:
    return f"{f[key]:.2f}" if key in f else ""


def table(f: dict[str, Any]) -> list[str]:
    events = f["order_events"]
    rows = ["| step | seconds | CPU seconds | events/s |", "|---|---:|---:|---:|"]
    for files, where in FILES:
        for engine, name in ENGINES:
            parts = [("whole", f"{engine}_{files}"), ("compute", f"{engine}_{files}_compute")]
            if engine == "duckdb" and f"duckdb_{files}_fetch_s" in f:
                parts.append(("compute + fetch", f"duckdb_{files}_fetch"))
            for label, key in parts:
                rows.append(f"| rebuild, {name}, over {where} — {label} | {f[key + '_s']:.2f} | "
                            f"{_cpu(f, key + '_cpu_s')} | {_num(events / f[key + '_s'])} |")
    compaction_cpu = f"{f['compaction_cpu_s']:.1f}" if "compaction_cpu_s" in f else ""
    rows.append(f"| compaction of every day to Parquet ({_num(f['lake_events'])} events, "
                f"{_num(f['compacted_files'])} files) | {f['compaction_s']:.1f} | {compaction_cpu} | "
                f"{_num(f['lake_events'] / f['compaction_s'])} |")
    rows.append(f"| lake append, one `O_APPEND` write per line (sample of 10 000) | | | "
                f"{_num(f['append_lines_per_s'])} lines/s |")
    rows.append(f"| lake append in bulk (what `ecommerce seed --scale` does) | | | "
                f"{_num(f['bulk_append_lines_per_s'])} lines/s |")
    return rows


def ratios(f: dict[str, Any]) -> list[str]:
    out = []
    for files, where in FILES:
        fetch = f", {_ratio(f, files, 'fetch'):.1f}x on compute + fetch" if f"duckdb_{files}_fetch_s" in f else ""
        cpu = (f" In CPU time: {_ratio(f, files, 'whole', cpu=True):.1f}x whole "
               f"({f[f'fold_{files}_cpu_s']:.2f} s against {f[f'duckdb_{files}_cpu_s']:.2f} s), "
               f"{_ratio(f, files, 'compute', cpu=True):.1f}x compute, "
               f"{_ratio(f, files, 'fetch', cpu=True):.1f}x compute + fetch.") if _has_cpu(f) else ""
        out.append(f"- **DuckDB against the fold, over {where}**: {_ratio(f, files, 'whole'):.1f}x on the whole "
                   f"rebuild ({f[f'fold_{files}_s']:.2f} s against {f[f'duckdb_{files}_s']:.2f} s), "
                   f"{_ratio(f, files, 'compute'):.1f}x on the compute part{fetch}.{cpu}")
    return out


#: Results without the "compute + fetch" figure were measured on the code before the rebuild-speed work.
EARLIER = ("These figures are from the code **before** the rebuild-speed work (not measured again since): "
           "the SQL deduplicated by event id and read every column, the rows were fetched as Python lists, and "
           "the PostgreSQL load wrote its CSV in Python.")


STEADIER = "; the CPU seconds, which count only this process, move far less than the wall times"


def section(f: dict[str, Any], title: str, source: str) -> list[str]:
    earlier = "duckdb_parquet_fetch_s" not in f
    lines = [f"## {title}{' (earlier code)' if earlier else ''}", "", *([EARLIER, ""] if earlier else []),
             f"`{source}`: {_num(f['orders'])} orders, {_num(f['lake_events'])} lake events of which "
             f"{_num(f['order_events'])} are order events (what a rebuild reads), {_num(f['rows_loaded'])} rows "
             f"loaded per rebuild; {_load_average(f)}.", ""]
    if "load_before" in f and max(f["load_before"][0], f["load_after"][0]) > 2 * f.get("cpus", 2):
        lines += [f"**A loaded machine**: other sessions' test suites and benchmarks ran meanwhile (load average up "
                  f"to {max(f['load_before'][0], f['load_after'][0]):.0f} on {f.get('cpus', 2)} cores), so every "
                  f"absolute time here is several times an idle machine's, and each engine got a varying share of "
                  f"the CPU from one step to the next. Compare the engines within this run, not with other runs"
                  f"{STEADIER if _has_cpu(f) else '; the figures on an idle machine are still to be measured'}.", ""]
    lines += table(f)
    lines += ["", *ratios(f)]
    return lines


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def verdict(f: dict[str, Any]) -> list[str]:
    cpu = _has_cpu(f)
    seconds = [f"{f[f'duckdb_{files}_s']:.2f} s over {where} ({_met(f[f'duckdb_{files}_s'] < SECONDS_TARGET)}"
               + (f"; CPU {f[f'duckdb_{files}_cpu_s']:.2f} s" if cpu else "") + ")" for files, where in FILES]
    whole = max(f["duckdb_parquet_s"], f["duckdb_jsonl_s"])
    ratios = []
    parts = (("compute", "the compute part"), ("fetch", "compute + fetch (DuckDB's rows in Python, as the fold's are)"),
             ("whole", "the whole rebuild"))
    for part, label in parts:
        best = max(_ratio(f, files, part) for files, _ in FILES)
        best_cpu = max(_ratio(f, files, part, cpu=True) for files, _ in FILES) if cpu else 0.0
        in_cpu = f", {best_cpu:.1f}x in CPU time" if cpu else ""
        ratios.append(f"{label} at most {best:.1f}x in wall time{in_cpu} ({_met(max(best, best_cpu) >= RATIO_TARGET)})")
    load = max(f["duckdb_parquet_s"] - f["duckdb_parquet_compute_s"], 1e-3)  # the load and commit after the compute
    load_cpu = (f" (CPU {max(f['duckdb_parquet_cpu_s'] - f['duckdb_parquet_compute_cpu_s'], 0):.2f} s)"
                if cpu else "")
    lines = [f"## The targets ({_num(f['orders'])} orders, SQLite)", "",
             f"- **The whole scale-10 rebuild under {SECONDS_TARGET:.0f} s**: {_met(whole < SECONDS_TARGET)} — "
             f"DuckDB {', '.join(seconds)}.",
             f"- **DuckDB at least {RATIO_TARGET:.0f}x the fold's rate**: {'; '.join(ratios)}, the better of the two "
             f"kinds of files each. The load and commit after DuckDB's compute took about {load:.2f} s{load_cpu} "
             f"over Parquet, so even an engine that computed in no time would make the whole rebuild at most "
             f"{f['fold_parquet_s'] / load:.0f}x the fold's: the whole rebuild cannot reach {RATIO_TARGET:.0f}x "
             f"while both engines load the same rows."]
    return lines


TAIL = """
## Where the time goes

- **The load is shared.** A whole rebuild deletes and reloads every row of the module's tables (most of
  them bought-together pairs), whatever engine computed them: SQLite through `executemany` of one
  prepared `INSERT` per table, the rows streamed from DuckDB in batches, with the tables' secondary
  indexes dropped before and built again after the load in the same transaction (one sort per index
  instead of a b-tree insert per row; readers keep their snapshot until the commit); PostgreSQL through
  `COPY` of a CSV file DuckDB writes itself (no Python object per row; the fold's rows go through
  Python's CSV writer). On SQLite that load is the same work after either engine, so the whole
  rebuild's ratio is bounded by (fold's whole rebuild) / load, far below 50x; the targets' 50x can only
  be the engines' own part.
- **Reading the lake** (profiled with `EXPLAIN ANALYZE` and CPU time at 20 000 orders): two years of
  daily partitions are about 1 470 Parquet files for the two order event types, and DuckDB's fixed cost
  per file — open, footer, one column chunk per column read — is about 0.2 ms of CPU: the same rows read
  from one file per type take 0.02 s of CPU instead of 0.13-0.16 s, so the files, not the events, are
  most of the scan and more than half of DuckDB's compute. None of DuckDB's documented reader options
  moves it (each measured, all within noise): an explicit file list instead of the glob (slightly
  slower), `enable_object_cache` / `parquet_metadata_cache` (a rebuild opens a fresh DuckDB and reads each
  file once, so there is nothing to reuse), `parquet_use_page_index` off, `disable_parquet_prefetching`,
  `async_threads`, `threads = 1`, the external file cache off, and the files' codec (zstd, snappy or
  none: the same per file). `hive_partitioning` and `union_by_name` were already off (one schema per
  event type and version; the date is not read). For the JSON lines, a schema of only the fields the
  rules read (with the scans streamed into the aggregate) cut DuckDB's compute over them by about a
  quarter of its CPU at 20 000 orders and a tenth at 100 000; a fixed `timestampformat` or
  `auto_detect = false` on top changed nothing measurable. At 100 000 orders the files are about a third
  of DuckDB's compute (0.19 s of CPU per scan over the daily files, 0.06-0.07 s over one file per type),
  and the per-order aggregate most of the rest.
- **What changed to get here** (the earlier figures, same benchmark, were 3.7x-11x on the compute part
  and 2.6x-4.1x whole): no grouping by event id (every rule of the model ignores a second copy of an
  event, so only the reported event count needs distinct ids, and only while JSON lines exist); only
  the needed columns; the rows kept in DuckDB instead of a list of tuples per table; the PostgreSQL load
  from DuckDB's CSV writer; the SQLite load without its secondary indexes; then the scans streamed
  straight into the per-order aggregate (no table of the events), only the needed fields of each JSON
  line, and the orders' timestamps handed to SQLite as text (about 30 % less CPU to load that table).
- **The reload keeps every row**: the rows are what the queries and the live handlers read — every order's
  flags (a void order's row is what stops a late or repeated event from counting it), every order's lines
  (an unpaid order may still be paid), sales, and the pairs in both directions (one index seek per product
  page). Only a void order's lines are never read again (about 6 % of the rows here), but the live
  handlers keep them, and a rebuild must load exactly the live tables. SQLite's `synchronous` cannot
  change inside a transaction, and in WAL mode with `synchronous = NORMAL` a commit does not `fsync`
  anyway; the commit, with its WAL checkpoint, was about 3 % of a whole rebuild at 20 000 orders — not
  worth `synchronous = OFF`, which would risk the whole database file on a power cut. Passing each table
  to SQLite as one JSON text per 50 000 rows (`INSERT ... SELECT FROM json_each(?)`) was no faster than
  `executemany`: the b-tree inserts, not Python, are the cost.
- **Before the profiling work** (the code before the last three changes, the same benchmark run right
  after the figures above on the same machine; ADR 0019 has the table): DuckDB's whole rebuild took
  about 10 % more CPU (2.59 s over Parquet, 2.82 s over JSON lines) and its compute over Parquet the
  same (0.83 s). The wall times of earlier runs on this page moved several times more with the machine's
  load than with any change of code.
- **Not measured here**: the incremental path at this size (about 400-600 events/s on SQLite, so 15
  minutes for 420k events; run `--incremental` at a smaller `--orders`).
- **Compaction** is dominated by the number of files (two years of days x four event types) and their
  `fsync`s, not by the events: one DuckDB statement writes every day of one event type.
"""


def render() -> str:
    sqlite, postgres = _load("recommendations-rebuild-sqlite.json"), _load("recommendations-rebuild-postgres.json")
    lines = [HEAD]
    if sqlite:
        lines += [*section(sqlite, f"{_num(sqlite['orders'])} orders, SQLite",
                           "benchmarks/results/recommendations-rebuild-sqlite.json"), ""]
    if postgres:
        lines += [*section(postgres, f"{_num(postgres['orders'])} orders, PostgreSQL",
                           "benchmarks/results/recommendations-rebuild-postgres.json"), ""]
    if sqlite:
        lines += verdict(sqlite)
    return "\n".join(lines) + "\n" + TAIL


def main() -> None:
    PAGE.write_text(render())
    print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
