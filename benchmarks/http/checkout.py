"""Checkout under load: every virtual customer fills a cart and checks it out, again and again.

Why not wrk: a checkout is a conversation (add to cart, then ``POST /orders`` with a fresh
``Idempotency-Key``) and each customer has one cart, so the load is driven by asyncio customers, one
connection each. The first product is scarce, so customers race for its last units; afterwards the
database is read directly to prove nothing was oversold.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from benchmarks.http.client import Connection
from benchmarks.http.scenario import API, Customer, Prepared


async def _shop(base: str, buyer: Customer, products: list[int], offset: int, stop_at: float,
                tally: dict[str, Any]) -> None:
    conn = Connection(base)
    i = offset
    try:
        while time.perf_counter() < stop_at:
            i += 1
            product_id = products[i % len(products)]
            added = await conn.request("POST", API + "/cart/items", {"product_id": product_id, "quantity": 1},
                                       buyer.auth)
            tally["statuses"][added.status] = tally["statuses"].get(added.status, 0) + 1
            if added.status != 200:
                continue
            placed = await conn.request("POST", API + "/orders", {"address_id": buyer.address_id},
                                        {**buyer.auth, "Idempotency-Key": str(uuid.uuid4())})
            tally["statuses"][placed.status] = tally["statuses"].get(placed.status, 0) + 1
            tally["latencies"].append(placed.seconds)
            if placed.status == 201:
                tally["placed"] += 1
            elif placed.status == 409:  # the scarce product ran out: empty the cart and go on
                tally["sold_out"] += 1
                await conn.request("DELETE", API + "/cart", None, buyer.auth)
    finally:
        await conn.close()


async def drive(base: str, prepared: Prepared, seconds: float) -> dict[str, Any]:
    tally: dict[str, Any] = {"placed": 0, "sold_out": 0, "statuses": {}, "latencies": []}
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(
        _shop(base, buyer, prepared.checkout_products, n, stop_at, tally) for n, buyer in enumerate(prepared.buyers)
    ))
    elapsed = time.perf_counter() - started
    latencies = sorted(tally["latencies"])

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 3) if latencies else 0.0

    statuses = {str(k): v for k, v in sorted(tally["statuses"].items())}
    return {
        "checkouts_per_s": round(tally["placed"] / elapsed, 1),
        "placed": tally["placed"],
        "sold_out_409": tally["sold_out"],
        "statuses": statuses,
        "server_errors": sum(v for k, v in tally["statuses"].items() if k >= 500),
        "p50_ms": pct(0.50), "p99_ms": pct(0.99),
        "customers": len(prepared.buyers),
        "seconds": round(elapsed, 2),
    }


def oversell(database_url: str, prepared: Prepared) -> dict[str, Any]:
    """Units held by live orders against the stock each product started with, read from the tables."""
    ids = prepared.checkout_products
    marks = ", ".join(["%s" if database_url.startswith("postgres") else "?"] * len(ids))
    live = "('pending_payment', 'paid', 'fulfilled', 'shipped', 'delivered')"
    if database_url.startswith("postgres"):
        import psycopg2

        conn: Any = psycopg2.connect(database_url)
        catalog, orders = "catalog.", "orders."
    else:
        import sqlite3

        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        catalog = orders = ""
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT product_id, SUM(quantity), SUM(reserved), MIN(quantity - reserved) FROM "
                    f"{catalog}inventory WHERE product_id IN ({marks}) GROUP BY product_id", ids)
        stock = {row[0]: row[1:] for row in cur.fetchall()}
        cur.execute(f"SELECT i.product_id, SUM(i.quantity) FROM {orders}order_items i JOIN {orders}orders o "
                    f"ON o.id = i.order_id WHERE i.product_id IN ({marks}) AND o.order_status IN {live} "
                    f"GROUP BY i.product_id", ids)
        ordered = dict(cur.fetchall())
    finally:
        conn.close()
    report = []
    for pid in ids:
        _quantity, reserved, least_free = stock[pid]
        sold = int(ordered.get(pid, 0))
        report.append({"product_id": pid, "initial": prepared.initial_stock[pid], "ordered": sold,
                       "reserved": int(reserved), "oversold": max(0, sold - prepared.initial_stock[pid]),
                       "negative_free_stock": int(least_free) < 0})
    return {
        "oversold_units": sum(r["oversold"] for r in report),
        "negative_free_stock": any(r["negative_free_stock"] for r in report),
        "scarce": report[0],
    }
