"""Suite 2 — pagination: ``LIMIT/OFFSET`` vs keyset (``WHERE id < :last_seen``) at growing depths.

The question: "one page of 20 orders, newest first, N rows deep" (the admin order list). OFFSET makes
the database walk and throw away N rows; keyset starts from the last row the client saw, one index
range scan whatever the depth (ADR 0011). The client holds that cursor, so it is looked up before timing.
"""

from __future__ import annotations

from typing import Any

from benchmarks.sql.harness import Plan, Rows, Target, fetch
from ecommerce.modules.orders.models import database

PAGE = 20
DEPTHS = (0, 1_000, 10_000, 50_000, 100_000)
SMOKE_DEPTHS = (0, 1_000)
COLUMNS = "id, user_id, order_status, total, created_at"


def prepare(target: Target) -> dict[str, Any]:
    def cursors() -> dict[str, Any]:
        db = target.db("orders")
        total = int(fetch(db, "SELECT count(*) FROM orders")[0][0])
        ctx: dict[str, Any] = {"total": total, "cursor": {}}
        for depth in DEPTHS:
            real = depth_for(ctx, depth)
            if real:
                ctx["cursor"][real] = fetch(db, "SELECT id FROM orders ORDER BY id DESC LIMIT 1 OFFSET ?",
                                            (real - 1,))[0][0]
        return ctx

    return target.call(cursors)


def depth_for(ctx: dict[str, Any], depth: int) -> int:
    """A depth past the end of a small dataset becomes the last page."""
    return max(0, min(depth, ctx["total"] - PAGE))


def offset(ctx: dict[str, Any], depth: int) -> Rows:
    return fetch(database, f"SELECT {COLUMNS} FROM orders ORDER BY id DESC LIMIT ? OFFSET ?",
                 (PAGE, depth_for(ctx, depth)))


def keyset(ctx: dict[str, Any], depth: int) -> Rows:
    real = depth_for(ctx, depth)
    if real == 0:
        return fetch(database, f"SELECT {COLUMNS} FROM orders ORDER BY id DESC LIMIT ?", (PAGE,))
    return fetch(database, f"SELECT {COLUMNS} FROM orders WHERE id < ? ORDER BY id DESC LIMIT ?",
                 (ctx["cursor"][real], PAGE))


VARIANTS = {"offset": offset, "keyset": keyset}


def plan(ctx: dict[str, Any], variant: str, depth: int) -> Plan:
    real = depth_for(ctx, depth)
    if variant == "offset":
        return Plan("orders", f"SELECT {COLUMNS} FROM orders ORDER BY id DESC LIMIT ? OFFSET ?", (PAGE, real))
    return Plan("orders", f"SELECT {COLUMNS} FROM orders WHERE id < ? ORDER BY id DESC LIMIT ?",
                (ctx["cursor"].get(real, 2**31 - 1), PAGE))
