"""Suite 8 — what the ORM costs: the same primary-key lookup of an order through a peewee model
instance, ``.dicts()``, ``.tuples()`` and the raw driver cursor (psycopg2 / sqlite3).

Each round looks up the same 200 orders (ids spread over the table); every variant returns
``(id, user_id, order_status, total)`` per order. The database work is identical; the difference is
peewee building the query and turning rows into objects.
"""

from __future__ import annotations

import random
from typing import Any

from benchmarks.sql.harness import Plan, Rows, Target, fetch, raw, sql
from ecommerce.modules.orders.models import Order, database

LOOKUPS = 200
SMOKE_LOOKUPS = 20
COLUMNS = [f.column_name for f in Order._meta.sorted_fields]
RAW = f"SELECT {', '.join(COLUMNS)} FROM orders WHERE id = ?"


def prepare(target: Target) -> dict[str, Any]:
    top = int(target.call(lambda: fetch(target.db("orders"), "SELECT max(id) FROM orders"))[0][0])
    return {"ids": random.Random(8).sample(range(1, top + 1), min(LOOKUPS, top))}


def model(ctx: dict[str, Any], n: int) -> Rows:
    out = []
    for oid in ctx["ids"][:n]:
        o = Order.get_by_id(oid)
        out.append((o.id, o.user_id, o.order_status, o.total))
    return out


def dicts(ctx: dict[str, Any], n: int) -> Rows:
    out = []
    for oid in ctx["ids"][:n]:
        d = Order.select().where(Order.id == oid).dicts().get()
        out.append((d["id"], d["user_id"], d["order_status"], d["total"]))
    return out


def tuples(ctx: dict[str, Any], n: int) -> Rows:
    out = []
    index = [f.name for f in Order._meta.sorted_fields]
    i, u, s, t = (index.index(k) for k in ("id", "user_id", "order_status", "total"))
    for oid in ctx["ids"][:n]:
        row = Order.select().where(Order.id == oid).tuples().get()
        out.append((row[i], row[u], row[s], row[t]))
    return out


def driver(ctx: dict[str, Any], n: int) -> Rows:
    cursor = database.connection().cursor()
    text = sql(database, RAW)
    i, u, s, t = (COLUMNS.index(k) for k in ("id", "user_id", "order_status", "total"))
    out = []
    for oid in ctx["ids"][:n]:
        cursor.execute(text, (oid,))
        row = cursor.fetchone()
        out.append((row[i], row[u], row[s], row[t]))
    raw(len(ctx["ids"][:n]))
    return out


VARIANTS = {"model": model, "dicts": dicts, "tuples": tuples, "driver": driver}


def plan(ctx: dict[str, Any]) -> Plan:
    return Plan("orders", RAW, (ctx["ids"][0],))
