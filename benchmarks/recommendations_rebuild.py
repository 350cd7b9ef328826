"""How fast the data lake takes events, compacts them to Parquet, and rebuilds recommendations (ADR 0019).

    python -m benchmarks.recommendations_rebuild --orders 100000                  # scale 10, SQLite
    python -m benchmarks.recommendations_rebuild --orders 100000 --database-url postgresql://...
    python -m benchmarks.recommendations_rebuild --orders 2000 --incremental      # + the handlers' path

(Run it as a module: ``python benchmarks/recommendations_rebuild.py`` would put ``benchmarks/`` first on
``sys.path``, and ``benchmarks/http`` would hide the standard library's ``http``.)

Writes ``--orders`` orders' events to a fresh lake exactly as ``ecommerce seed --scale`` does
(``ecommerce.devtools.dataset.events``: placed, paid, status changes, refunds; the seed's mix of final
states; 1-5 of ``orders / 10`` products each, a few popular; over two years of daily partitions), then
measures, in one run on a fresh database:

1. appending to the lake: one ``O_APPEND`` write per line (lines/s, on a sample) and in bulk;
2. the rebuild over the JSON lines with the Python fold and with DuckDB (order events/s), same tables —
   the whole rebuild (read, compute, bulk-load the tables, commit) and its compute part alone (read and
   compute the rows: the fold's as Python lists, DuckDB's in its own memory; turning DuckDB's rows into
   Python tuples or CSV is part of the load, and is also timed on its own as "compute + fetch");
3. compaction of every day to Parquet (events/s);
4. both again over the Parquet files, same tables;
5. with ``--incremental``: every order event through the module's handlers, one transaction each, as the
   relay would (events/s) — and the rebuilds must equal that too.

Every timing is the median of ``--repeat`` runs (default 3), fold and DuckDB alike, in wall time and in
CPU time of this process (``getrusage``: user and system, DuckDB's threads included — the figure that
moves least with what else the shared machine runs); the machine's load average before and after is
recorded with the figures. Prints one line per figure and, with
``--json FILE``, writes them as JSON. Deterministic (seeded).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecommerce.devtools.dataset.events import order_events
from ecommerce.devtools.dataset.generate import STATUSES
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.events import Envelope
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.lake import compact
from ecommerce.kernel.lake.commands import installed_schemas
from ecommerce.kernel.settings import Settings
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.recommendations import api, lake_sql, reactions
from ecommerce.modules.recommendations.models import MODEL_TABLES
from ecommerce.modules.recommendations.rebuild import compute

START = datetime.datetime(2024, 11, 1)
DAYS = 730
#: Lines appended one write at a time, to measure the relay's path without waiting minutes.
SAMPLE = 10_000


def synthetic(orders: int, seed: int = 7) -> list[LakeRecord]:
    """The events of ``orders`` orders, like the seeded dataset's (``ecommerce seed --scale``)."""
    rnd = random.Random(seed)
    products = max(orders // 10, 10)
    weights = [1.0 / (k + 1) ** 0.9 for k in range(products)]  # a few products sell a lot
    statuses = list(STATUSES)
    shares = [STATUSES[s][0] for s in statuses]
    records: list[LakeRecord] = []
    for order_id in range(1, orders + 1):
        created = START + datetime.timedelta(seconds=DAYS * 86400 * order_id / (orders + 1))
        picked = set(rnd.choices(range(1, products + 1), weights=weights, k=rnd.randint(1, 5)))
        lines = [{"product_id": p, "quantity": rnd.choice([1, 1, 1, 2, 3]), "unit_price": 1999} for p in sorted(picked)]
        status = rnd.choices(statuses, weights=shares)[0]
        updated = created + datetime.timedelta(hours=rnd.randint(1, 240))
        records += order_events(order_id, rnd.randint(1, max(orders // 5, 1)), status,
                                sum(line["quantity"] * line["unit_price"] for line in lines), "USD", lines,
                                created, updated)
    return records


def tables() -> dict[str, list[tuple[Any, ...]]]:
    return {m._meta.table_name: sorted(m.select().tuples()) for m in MODEL_TABLES}


def cpu_time() -> float:
    """CPU seconds of this process so far, user and system, every thread (DuckDB's workers too): on a shared
    machine it moves far less than wall time with what other processes do."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def timed(fn: Callable[[], object]) -> float:
    return measured(fn)[0]


def measured(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    started, cpu = time.perf_counter(), cpu_time()
    fn()
    return time.perf_counter() - started, cpu_time() - cpu


def median(fn: Callable[[], object], repeat: int, figures: dict[str, Any], key: str) -> None:
    """``figures[key + "_s"]``: the median wall time of ``repeat`` calls; ``key + "_cpu_s"``: the median CPU
    time (each median on its own)."""
    runs = [measured(fn) for _ in range(repeat)]
    figures[f"{key}_s"] = statistics.median(wall for wall, _ in runs)
    figures[f"{key}_cpu_s"] = statistics.median(cpu for _, cpu in runs)


def computed(lake: EventLake, engine: str) -> None:
    """The compute part alone: the engine's rows, not loaded."""
    compute(lake, engine).close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000, help="default 100000 (the dataset's scale 10)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--incremental", action="store_true", help="also apply every event through the handlers")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing, the median reported (default 3)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lake-bench-"))
    settings = Settings(data_dir=root, database_url=args.database_url, secret_key="bench-" + "x" * 40,
                        run_relay=False, log_level="WARNING",
                        modules=("catalog", "orders", "payments", "recommendations", "users"))
    kernel = Kernel(settings)
    kernel.migrate()
    figures: dict[str, Any] = {"backend": "postgresql" if args.database_url else "sqlite", "orders": args.orders,
                               "repeat": args.repeat, "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    try:
        records = synthetic(args.orders)
        order_keys = {OrderPlaced.key(), OrderStatusChanged.key()}
        events = sum(1 for r in records if r.key in order_keys)  # what a rebuild reads
        figures.update(lake_events=len(records), order_events=events)
        scratch = EventLake(root / "scratch")
        sample = records[:SAMPLE]
        figures["append_lines_per_s"] = len(sample) / timed(lambda: [scratch.append(r) for r in sample])
        lake = EventLake(root / "lake")
        figures["bulk_append_lines_per_s"] = len(records) / timed(lambda: lake.append_many(records))

        def rebuild(engine: str, files: str) -> None:
            median(lambda: computed(lake, engine), args.repeat, figures, f"{engine}_{files}_compute")
            if engine == "duckdb":  # the same rows as Python tuples, as the fold's are
                median(lambda: lake_sql.model_tables(lake.events_dir), args.repeat, figures, f"duckdb_{files}_fetch")
            whole = f"{engine}_{files}"
            median(lambda: kernel.call(api.rebuild, lake, None, None, engine), args.repeat, figures, whole)

        rebuild("fold", "jsonl")
        expected = kernel.call(tables)
        rebuild("duckdb", "jsonl")
        assert kernel.call(tables) == expected, "the DuckDB rebuild differs from the fold (JSON lines)"
        figures["rows_loaded"] = sum(len(rows) for _, rows in lake_sql.model_tables(lake.events_dir)[1].values())

        schemas = installed_schemas(kernel.registry)
        today = (START + datetime.timedelta(days=DAYS + 30)).date()
        started, cpu = time.perf_counter(), cpu_time()
        done = compact(lake.events_dir, schemas, today=today)
        figures["compaction_s"], figures["compaction_cpu_s"] = time.perf_counter() - started, cpu_time() - cpu
        figures["compacted_files"] = done.files
        assert done.events == len(records) and not list(lake.events_dir.glob("date=*/*.jsonl*"))

        rebuild("duckdb", "parquet")
        assert kernel.call(tables) == expected, "the DuckDB rebuild differs from the fold (Parquet)"
        rebuild("fold", "parquet")
        assert kernel.call(tables) == expected, "the fold over Parquet differs from the fold over JSON lines"

        if args.incremental:
            handlers = {OrderPlaced.name: (OrderPlaced, reactions.on_order_placed),
                        OrderStatusChanged.name: (OrderStatusChanged, reactions.on_order_status_changed)}

            def incremental() -> None:
                for model in reversed(MODEL_TABLES):
                    model.delete().execute()
                for record in records:
                    if record.name in handlers:
                        event, handler = handlers[record.name]
                        handler(Envelope(record.event_id, record.source, record.occurred_at,
                                         event.from_payload(record.payload)))

            figures["incremental_s"] = timed(lambda: kernel.call(incremental))
            assert kernel.call(tables) == expected, "the rebuild differs from the incremental model"
    finally:
        kernel.close()
    figures["load_after"] = os.getloadavg()
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def report(f: dict[str, Any]) -> None:
    events = f["order_events"]
    print(f"{f['backend']}: {f['orders']} orders, {f['lake_events']} lake events, {events} order events "
          f"(median of {f['repeat']}; load average {f['load_before'][0]:.1f} before, {f['load_after'][0]:.1f} after)")
    print(f"  lake append (one write per line) {f['append_lines_per_s']:10.0f} lines/s")
    print(f"  lake append (bulk, the seed)     {f['bulk_append_lines_per_s']:10.0f} lines/s")
    print(f"  rows loaded per rebuild           {f['rows_loaded']:10d}")
    for label, key in (("fold,   JSON lines", "fold_jsonl"), ("DuckDB, JSON lines", "duckdb_jsonl"),
                       ("fold,   Parquet", "fold_parquet"), ("DuckDB, Parquet", "duckdb_parquet")):
        whole, part = f[f"{key}_s"], f[f"{key}_compute_s"]
        fetch = f" (+ fetch {f[key + '_fetch_s']:.2f} s)" if f"{key}_fetch_s" in f else ""
        print(f"  rebuild, {label:<22}  {events / whole:10.0f} events/s ({whole:.2f} s, "
              f"CPU {f[key + '_cpu_s']:.2f} s); "
              f"compute alone {events / part:8.0f} events/s ({part:.2f} s, CPU {f[key + '_compute_cpu_s']:.2f} s)"
              f"{fetch}")
    print(f"  compaction to Parquet            {f['lake_events'] / f['compaction_s']:10.0f} events/s "
          f"({f['compaction_s']:.1f} s, CPU {f['compaction_cpu_s']:.1f} s, {f['compacted_files']} files)")
    for files in ("jsonl", "parquet"):
        print(f"  DuckDB / fold ({files}): {f[f'fold_{files}_s'] / f[f'duckdb_{files}_s']:.1f}x whole rebuild "
              f"({f[f'fold_{files}_cpu_s'] / f[f'duckdb_{files}_cpu_s']:.1f}x in CPU), "
              f"{f[f'fold_{files}_compute_s'] / f[f'duckdb_{files}_compute_s']:.1f}x compute "
              f"({f[f'fold_{files}_compute_cpu_s'] / f[f'duckdb_{files}_compute_cpu_s']:.1f}x in CPU), "
              f"{f[f'fold_{files}_compute_s'] / f[f'duckdb_{files}_fetch_s']:.1f}x compute + fetch")
    if "incremental_s" in f:
        print(f"  incremental apply                {events / f['incremental_s']:10.0f} events/s "
              f"({f['incremental_s']:.1f} s)")
    print("  every rebuild: same tables")


if __name__ == "__main__":
    main()
