"""How fast the data lake takes events and the recommendations model is rebuilt from it (ADR 0019).

    python benchmarks/recommendations_rebuild.py --orders 10000                       # SQLite, temporary
    python benchmarks/recommendations_rebuild.py --orders 10000 --database-url postgresql://...

Writes ``--orders`` synthetic orders (3 of 500 products each, 9 in 10 paid, 1 in 10 expired) to a fresh
lake as ``OrderPlaced`` + ``OrderStatusChanged`` lines, then measures, on a fresh database:
1. appending to the lake (lines/s, one ``O_APPEND`` write each);
2. the incremental path: every event through the module's handlers, as the relay would (events/s);
3. ``rebuild``: read, dedupe, fold and bulk-load the same log (events/s),
and checks that 2 and 3 end with the same tables. Deterministic (seeded); no catalog products, so the
category refresh after a rebuild costs one empty lookup per batch.
"""

from __future__ import annotations

import argparse
import datetime
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.events import Envelope
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.settings import Settings
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.recommendations import api, reactions
from ecommerce.modules.recommendations.models import MODEL_TABLES

START = datetime.datetime(2026, 1, 1)


def synthetic(orders: int, seed: int = 7) -> list[LakeRecord]:
    rnd = random.Random(seed)
    records = []
    for n in range(1, orders + 1):
        at = START + datetime.timedelta(seconds=n)
        user = n % 2000 + 1
        products = rnd.sample(range(1, 501), 3)
        lines = [{"product_id": p, "quantity": rnd.randint(1, 3), "unit_price": 100} for p in products]
        placed = {"order_id": n, "user_id": user, "total": 300, "currency": "USD", "lines": lines}
        status = {"order_id": n, "user_id": user, "from_status": "pending_payment",
                  "to_status": "expired" if n % 10 == 0 else "paid", "refund_requested": False}
        records.append(LakeRecord(str(uuid.uuid4()), OrderPlaced.name, 1, at, "orders", placed))
        records.append(LakeRecord(str(uuid.uuid4()), OrderStatusChanged.name, 1, at + datetime.timedelta(seconds=0.5),
                                  "orders", status))
    return records


def tables() -> dict[str, list[tuple[Any, ...]]]:
    return {m._meta.table_name: sorted(m.select().tuples()) for m in MODEL_TABLES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lake-bench-"))
    settings = Settings(data_dir=root, database_url=args.database_url, secret_key="bench-" + "x" * 40,
                        run_relay=False, log_level="WARNING", modules=("catalog", "orders", "recommendations", "users"))
    kernel = Kernel(settings)
    kernel.migrate()
    try:
        records = synthetic(args.orders)
        lake = EventLake(root / "lake")
        started = time.perf_counter()
        for record in records:
            lake.append(record)
        append = time.perf_counter() - started

        handlers = {OrderPlaced.name: (OrderPlaced, reactions.on_order_placed),
                    OrderStatusChanged.name: (OrderStatusChanged, reactions.on_order_status_changed)}

        def incremental() -> None:
            for model in reversed(MODEL_TABLES):
                model.delete().execute()
            for record in records:
                event, handler = handlers[record.name]
                payload = event.from_payload(record.payload)
                handler(Envelope(record.event_id, record.source, record.occurred_at, payload))

        started = time.perf_counter()
        kernel.call(incremental)
        live = time.perf_counter() - started
        expected = kernel.call(tables)

        started = time.perf_counter()
        kernel.call(api.rebuild, lake)
        rebuilt = time.perf_counter() - started
        assert kernel.call(tables) == expected, "rebuild differs from the incremental model"

        backend = "postgresql" if args.database_url else "sqlite"
        events = len(records)
        print(f"{backend}: {args.orders} orders, {events} events")
        print(f"  lake append        {events / append:10.0f} lines/s")
        print(f"  incremental apply  {events / live:10.0f} events/s ({live:.1f} s)")
        print(f"  rebuild from lake  {events / rebuilt:10.0f} events/s ({rebuilt:.1f} s), same tables")
    finally:
        kernel.close()


if __name__ == "__main__":
    main()
