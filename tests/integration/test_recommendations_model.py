"""The purchase model does not care in which order, or how often, order events arrive: applied through the
incremental handlers in any order with any repetitions, on every database layout, it always ends equal
to the fold of the events that happened (which is what a rebuild loads)."""

from __future__ import annotations

import datetime
import threading
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.lake import compact
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.recommendations import lake_sql, purchases
from ecommerce.modules.recommendations.lake_python import fold
from ecommerce.modules.recommendations.models import MODEL_TABLES, Pair, Sales
from ecommerce.modules.recommendations.rebuild import rebuild

STATUSES = ("paid", "fulfilled", "shipped", "delivered", "cancelled", "expired", "refunded")
Event = tuple[str, dict[str, Any], datetime.datetime]


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    """A few orders of a few products, each placed (or not yet) and moved through some states."""
    events: list[Event] = []
    for order_id in range(1, draw(st.integers(1, 5)) + 1):
        at = datetime.datetime(2026, 11, 25, 9, order_id)
        user_id = draw(st.integers(1, 3))
        if draw(st.booleans()) or order_id == 1:
            products = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
            lines = [{"product_id": p, "quantity": draw(st.integers(1, 3)), "unit_price": 100} for p in products]
            events.append((OrderPlaced.key(), {"order_id": order_id, "user_id": user_id, "lines": lines}, at))
        for status in draw(st.lists(st.sampled_from(STATUSES), max_size=3)):
            events.append((OrderStatusChanged.key(), {"order_id": order_id, "user_id": user_id, "to_status": status},
                           at + datetime.timedelta(seconds=1)))
    return events


def apply(events: list[Event]) -> dict[str, list[tuple[Any, ...]]]:
    for model in reversed(MODEL_TABLES):
        model.delete().execute()
    for key, payload, at in events:
        if key == OrderPlaced.key():
            purchases.record_placed(payload["order_id"], payload["user_id"], payload["lines"], at)
        else:
            purchases.record_status(payload["order_id"], payload["user_id"], payload["to_status"])
    return tables()


def tables() -> dict[str, list[tuple[Any, ...]]]:
    return {m._meta.table_name: sorted(m.select().tuples()) for m in MODEL_TABLES}


def expected(events: list[Event]) -> dict[str, list[tuple[Any, ...]]]:
    rows = fold(events).rows()
    as_tuples = {
        "recommendations_orders": [(r["order_id"], r["user_id"], r["placed"], r["paid"], r["void"], r["counted"],
                                    r["placed_at"]) for r in rows["orders"]],
        "recommendations_order_lines": [(r["order_id"], r["product_id"], r["quantity"]) for r in rows["lines"]],
        "recommendations_pairs": [(r["product_id"], r["other_id"], r["orders"]) for r in rows["pairs"]],
        "recommendations_sales": [(r["product_id"], r["orders"], r["units"]) for r in rows["sales"]],
    }
    return {name: sorted(values) for name, values in as_tuples.items()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), data=st.data())
def test_any_order_and_repetition_ends_at_the_fold(kernel: Kernel, history: list[Event], data: st.DataObject) -> None:
    delivered = data.draw(st.permutations(history))
    delivered += data.draw(st.lists(st.sampled_from(history), max_size=4)) if history else []
    assert kernel.runner.call(apply, delivered) == expected(history)


def test_racing_deliveries_of_the_same_payment_count_it_once(kernel: Kernel) -> None:
    """Eight threads deliver "paid" for one order at the same instant, bypassing the inbox (as two relays
    whose leases overlapped would on a non-atomic path): the upsert locks the order row and the
    conditional update on `counted` lets exactly one of them count it."""
    at = datetime.datetime(2026, 11, 25, 9, 0)
    lines = [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}]
    kernel.runner.call(purchases.record_placed, 7, 1, lines, at)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            kernel.runner.call(purchases.record_status, 7, 1, "paid")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    sales = kernel.runner.call(lambda: sorted(Sales.select(Sales.product_id, Sales.orders, Sales.units).tuples()))
    assert sales == [(1, 1, 2), (2, 1, 1)]
    pairs = kernel.runner.call(lambda: sorted(Pair.select(Pair.product_id, Pair.other_id, Pair.orders).tuples()))
    assert pairs == [(1, 2, 1), (2, 1, 1)]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), data=st.data())
def test_the_duckdb_rebuild_equals_the_live_model(kernel: Kernel, tmp_path: Path, history: list[Event],
                                                  data: st.DataObject) -> None:
    """The same histories, delivered shuffled and repeated to the handlers (the live model), and logged
    to a lake partly compacted to Parquet, partly still JSON lines, with duplicates on both sides: the
    DuckDB rebuild loads exactly the live tables, and so does the fold."""
    delivered = data.draw(st.permutations(history))
    delivered += data.draw(st.lists(st.sampled_from(history), max_size=4)) if history else []
    live = kernel.runner.call(apply, delivered)
    lake = EventLake(tmp_path / uuid.uuid4().hex)
    records = [LakeRecord(str(uuid.uuid4()), key.rsplit(".v", 1)[0], 1, at, "orders", payload)
               for key, payload, at in history]
    compacted = data.draw(st.integers(0, len(records)))
    for record in records[:compacted]:
        lake.append(record)
    compact(lake.events_dir, lake_sql.SCHEMAS, today=datetime.date(2026, 11, 26))
    for record in records[compacted:] + data.draw(st.lists(st.sampled_from(records), max_size=3)) if records else []:
        lake.append(record)
    for engine in ("duckdb", "fold"):
        kernel.runner.call(rebuild, lake, None, None, engine)
        assert kernel.runner.call(tables) == live, engine
