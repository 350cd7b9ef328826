"""The raw checkout: the SQL one checkout runs (add one unit to the cart, then ``POST /orders``), sent with
the bare driver, no HTTP, no framework, no ORM — the ceiling ``POST /orders`` is held against.

The statements and their grouping into transactions are the app's own, as its PostgreSQL connections send
them (captured with the commit tracer's statements, ``benchmarks/commits``): add to cart is one orders
transaction plus the catalog snapshot; ``POST /orders`` is the idempotency claim (orders), the address read
(users), the priced reservation (catalog) and the order with its items, event, cart removal and stored
answer (orders) — 6 commits per checkout, as in the app, and its statements since the round trips were cut
(ADR 0015: the key's claim one upsert, the cart's upsert finding the cart, the answer from the inserts'
``RETURNING``, the reservation's insert as its "already reserved?" check). They are sent as text: the app's
prepared statements and its BEGIN sent with the first statement are the app's own savings, not the SQL's.
One liberty, cheaper than nothing: the outbox rows are written already delivered (the running app's relay must
not deliver these fake events inside the measurement). Same database, same concurrent customers, and as
many processes as the app has workers, and as many customers at once as the app can serve at once (its
worker threads): each customer a thread with its own sessions.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import multiprocessing
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

#: The line's upsert finds the cart itself (the customer's cart exists: made when the shopper connects).
ADD_TO_CART = [
    ("INSERT INTO cart_items (cart_id, product_id, quantity, added_at) SELECT id, %(product)s, 1, %(now)s FROM cart "
     "WHERE user_id = %(user)s ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + "
     "EXCLUDED.quantity", "none"),
]
LINES = ("SELECT t1.product_id, t1.quantity FROM cart_items t1 JOIN cart t2 ON t1.cart_id = t2.id "
         "WHERE t2.user_id = %(user)s ORDER BY t1.id")
SNAPSHOT = ("SELECT t1.id, t1.name, t1.price, t1.currency, t1.identification, (SELECT COALESCE(SUM(t2.quantity - "
            "t2.reserved), 0) FROM inventory t2 WHERE t2.product_id = t1.id) FROM product t1 "
            "WHERE t1.id = ANY(%(ids)s) AND t1.deleted_at IS NULL")
CLAIM = [
    ("INSERT INTO orders_idempotency_keys (scope, key, request_hash, status, created_at, expires_at) VALUES "
     "(%(scope)s, %(key)s, %(hash)s, 'in_flight', %(now)s, %(later)s) ON CONFLICT (scope, key) DO UPDATE SET "
     "request_hash = EXCLUDED.request_hash, status = EXCLUDED.status, response_status = NULL, response_body = NULL, "
     "created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at "
     "WHERE orders_idempotency_keys.expires_at < EXCLUDED.created_at", "none"),
]
ADDRESS = ("SELECT id, user_id, street, city, state, postal_code, country, created_at, updated_at FROM addresses "
           "WHERE id = %(address)s AND user_id = %(user)s LIMIT 1")
RESERVE_CHECK = [
    ("INSERT INTO reservations (reference, status, created_at, updated_at, expires_at) VALUES "
     "(%(ref)s, 'held', %(now)s, %(now)s, %(deadline)s) ON CONFLICT DO NOTHING RETURNING id", "reservation"),
    ("SELECT t1.id, t1.product_id, t1.warehouse_id, t1.quantity, t1.reserved, t2.latitude, t2.longitude, t2.country "
     "FROM inventory t1 JOIN warehouses t3 ON t1.warehouse_id = t3.id JOIN locations t2 ON t3.location_id = t2.id "
     "JOIN product t4 ON t1.product_id = t4.id WHERE t1.product_id = ANY(%(ids)s) AND t1.quantity > t1.reserved "
     "AND t4.deleted_at IS NULL", "inventory"),
]
RESERVE_LINE = [
    ("UPDATE inventory SET reserved = reserved + %(qty)s, updated_at = %(now)s WHERE id = %(inventory)s "
     "AND quantity - reserved >= %(qty)s", "none"),
    ("INSERT INTO reservation_lines (reservation_id, product_id, warehouse_id, inventory_id, quantity) VALUES "
     "(%(reservation)s, %(product)s, %(warehouse)s, %(inventory)s, %(qty)s) RETURNING id", "none"),
    ("SELECT COALESCE(SUM(quantity - reserved), 0) FROM inventory WHERE product_id = %(product)s LIMIT 1", "none"),
    ("INSERT INTO catalog_outbox (event_id, name, version, payload, occurred_at, available_at, attempts, delivered_at) "
     "VALUES (%(event)s, 'catalog.StockChanged.v1', 1, %(payload)s, %(now)s, %(now)s, 0, %(now)s) RETURNING id",
     "none"),
]
ORDER = ("INSERT INTO orders (user_id, address_id, order_status, payment_status, currency, subtotal, total, "
         "item_count, shipping_address, reservation, created_at, updated_at, expires_at) VALUES (%(user)s, "
         "%(address)s, 'pending_payment', 'unpaid', %(currency)s, %(total)s, %(total)s, %(count)s, %(shipping)s, "
         "%(ref)s, %(now)s, %(now)s, %(deadline)s) "
         "RETURNING id, order_status, payment_status, subtotal, total, currency, shipping_address, created_at, "
         "expires_at")
ORDER_REST = [
    ("INSERT INTO order_items (order_id, product_id, product_name, sku, unit_price, quantity, line_total) "
     "VALUES (%(order)s, %(product)s, %(name)s, %(sku)s, %(price)s, %(qty)s, %(line)s) "
     "RETURNING id, product_id, product_name, sku, quantity, unit_price, line_total", "none"),
    ("INSERT INTO orders_outbox (event_id, name, version, payload, occurred_at, available_at, attempts, delivered_at) "
     "VALUES (%(event)s, 'orders.OrderPlaced.v1', 1, %(payload)s, %(now)s, %(now)s, 0, %(now)s) RETURNING id", "none"),
    ("DELETE FROM cart_items WHERE cart_id = (SELECT id FROM cart WHERE user_id = %(user)s) "
     "AND product_id = %(product)s AND quantity <= %(qty)s", "none"),
]
FINISH = ("UPDATE orders_idempotency_keys SET status = 'done', response_status = 201, response_body = %(body)s "
          "WHERE scope = %(scope)s AND key = %(key)s")


class Shopper:
    """One customer: a connection per module database, as the app's pools give one per use case."""

    def __init__(self, url: str, user_id: int, address_id: int) -> None:
        self.conn = {m: _connect(url, m) for m in ("orders", "catalog")}
        # The two reads outside a transaction (the address, add to cart's catalog snapshot) share one
        # autocommit session that sees both schemas: three sessions a customer, within max_connections.
        self.conn["users"] = self.snap = _connect(url, "users,catalog")
        self.snap.autocommit = True
        self.user, self.address = user_id, address_id
        with self.conn["orders"].cursor() as cur:  # the cart, as the app makes it on the first add
            cur.execute("INSERT INTO cart (user_id, created_at, updated_at) VALUES (%s, now(), now()) "
                        "ON CONFLICT DO NOTHING", (user_id,))
        self.conn["orders"].commit()

    def _run(self, module: str, statements: list[tuple[str, str]], values: dict[str, Any]) -> dict[str, Any]:
        cur = self.conn[module].cursor()
        kept: dict[str, Any] = {}
        for sql, keep in statements:
            cur.execute(sql, values)
            if keep != "none":
                kept[keep] = cur.fetchall()
        return kept

    def checkout(self, product_id: int) -> None:
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        v: dict[str, Any] = {"user": self.user, "address": self.address, "product": product_id, "now": now}
        orders, catalog = self.conn["orders"], self.conn["catalog"]
        # Add to cart: one orders transaction, the catalog snapshot read inside it.
        self._run("orders", ADD_TO_CART, v)
        cur = orders.cursor()
        cur.execute(LINES, v)
        lines = cur.fetchall()
        snap = self.snap.cursor()
        snap.execute(SNAPSHOT, {"ids": [pid for pid, _ in lines]})
        snap.fetchall()
        orders.commit()
        # POST /orders: the key's claim with the cart read...
        v.update(scope=str(self.user), key=str(uuid.uuid4()), later=now + datetime.timedelta(days=1),
                 hash=hashlib.sha256(json.dumps({"address_id": self.address}).encode()).hexdigest())
        self._run("orders", CLAIM, v)
        cur.execute(LINES, v)
        lines = cur.fetchall()
        orders.commit()
        # ...the address...
        users = self.conn["users"].cursor()
        users.execute(ADDRESS, v)
        address = users.fetchone()
        # ...the priced reservation in one catalog transaction...
        ids = [pid for pid, _ in lines]
        v.update(ids=ids, ref=f"order-{uuid.uuid4().hex}", deadline=now + datetime.timedelta(minutes=30))
        ccur = catalog.cursor()
        ccur.execute(SNAPSHOT, v)
        prices = {row[0]: row for row in ccur.fetchall()}
        kept = self._run("catalog", RESERVE_CHECK, v)
        where = {row[1]: row[0] for row in kept["inventory"]}
        v["reservation"] = kept["reservation"][0][0]
        for pid, qty in lines:
            self._run("catalog", RESERVE_LINE, {**v, "product": pid, "qty": qty, "inventory": where[pid],
                                                "warehouse": _warehouse(kept, pid),
                                                "event": str(uuid.uuid4()),
                                                "payload": json.dumps({"product_id": pid, "available": 0})})
        catalog.commit()
        # ...and the order, its items, its event, the cart's lines and the stored answer in one transaction.
        total = sum(prices[pid][2] * qty for pid, qty in lines)
        v.update(currency=prices[ids[0]][3], total=total, count=sum(q for _, q in lines),
                 shipping=json.dumps({"id": address[0], "street": address[2], "city": address[3]}))
        cur.execute(ORDER, v)
        v["order"] = cur.fetchone()[0]
        v["orders"] = [v["order"]]
        items = []
        for pid, qty in lines:
            line = {"product": pid, "name": prices[pid][1], "sku": prices[pid][4], "price": prices[pid][2],
                    "qty": qty, "line": prices[pid][2] * qty}
            items.append(line)
            self._run("orders", ORDER_REST, {**v, **line, "event": str(uuid.uuid4()),
                                             "payload": json.dumps({"order_id": v["order"], "lines": ids})})
        v["body"] = json.dumps({"id": v["order"], "items": items, "total": total})
        cur.execute(FINISH, v)
        orders.commit()

    def close(self) -> None:
        for conn in self.conn.values():
            conn.close()


def _connect(url: str, search_path: str) -> Any:
    """A session on the module's schema; waits a little while the server is out of connections (the
    machine's other users' test suites share its 100)."""
    import psycopg2

    for attempt in range(20):
        try:
            return psycopg2.connect(url, options=f"-c search_path={search_path}", application_name="raw-checkout")
        except psycopg2.OperationalError as exc:
            if "too many clients" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _warehouse(kept: dict[str, Any], product_id: int) -> int:
    return int(next(row[2] for row in kept["inventory"] if row[1] == product_id))


def _process(url: str, buyers: list[tuple[int, int]], products: list[int], seconds: float,
             out: Any, gate: Any) -> None:
    """One process (as one app worker): a thread per customer, checkouts until the time is up. ``gate``
    (a barrier with the parent) is passed once connected and once done, before disconnecting: the parent
    reads the CPU of the database sessions while they exist."""
    try:
        shoppers = [Shopper(url, user, address) for user, address in buyers]
    except Exception as exc:
        gate.abort()
        out.put({"placed": 0, "seconds": 1.0, "errors": [repr(exc)]})
        return
    gate.wait()
    counts = [0] * len(shoppers)
    errors: list[str] = []
    start = time.perf_counter()
    stop_at = start + seconds

    def shop(i: int) -> None:
        n = i
        try:
            while time.perf_counter() < stop_at:
                n += 1
                shoppers[i].checkout(products[n % len(products)])
                counts[i] += 1
        except Exception as exc:  # reported: a failing ceiling must not pass for a slow one
            errors.append(repr(exc))

    threads = [threading.Thread(target=shop, args=(i,)) for i in range(len(shoppers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    out.put({"placed": sum(counts), "seconds": elapsed, "errors": errors})
    gate.wait()
    for shopper in shoppers:
        shopper.close()


def measure(url: str, buyers: list[tuple[int, int]], products: list[int], seconds: float,
            processes: int, started: Callable[[], object] = lambda: None,
            ended: Callable[[], object] = lambda: None) -> dict[str, Any]:
    """Checkouts per second of the raw SQL, ``buyers`` (user id, address id) shopping ``products`` (each
    with plenty of stock) across ``processes`` processes. Empties the buyers' carts first. ``started``
    and ``ended`` run with every session connected, just before the checkouts and just after."""
    import psycopg2

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM orders.cart_items WHERE cart_id IN (SELECT id FROM orders.cart "
                    "WHERE user_id = ANY(%s))", ([user for user, _ in buyers],))
    conn.close()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    gate = context.Barrier(processes + 1)
    workers = [context.Process(target=_process, args=(url, buyers[i::processes], products, seconds, out, gate))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    try:
        gate.wait(timeout=120)
        started()
        parts = [out.get(timeout=seconds + 120) for _ in workers]
        ended()
        gate.wait(timeout=120)
    except threading.BrokenBarrierError:
        parts = [{"placed": 0, "seconds": 1.0, "errors": ["a raw checkout process failed to start"]}]
        for _ in workers:
            try:
                parts.append(out.get(timeout=10))
            except queue.Empty:
                break
    for worker in workers:
        worker.join()
    errors = [e for part in parts for e in part["errors"]]
    placed = sum(part["placed"] for part in parts)
    elapsed = max(part["seconds"] for part in parts)
    return {"checkouts_per_s": round(placed / elapsed, 1), "placed": placed, "seconds": round(elapsed, 2),
            "customers": len(buyers), "processes": processes, "errors": errors[:5]}


def buyers_of(url: str, address_ids: list[int]) -> list[tuple[int, int]]:
    """(user id, address id) of the benchmark's customers, read from the users schema."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT user_id, id FROM users.addresses WHERE id = ANY(%s)", (address_ids,))
            found = {address: user for user, address in cur.fetchall()}
    finally:
        conn.close()
    return [(found[a], a) for a in address_ids]


def wait_delivered(url: str, limit: float = 60.0) -> bool:
    """Until every outbox of the database is delivered (the app's relay has caught up), at most ``limit``;
    False if it had not caught up by then."""
    from benchmarks.http.servers import autocommit_cursor

    with autocommit_cursor(url) as cur:
        cur.execute("SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables "
                    "WHERE table_name LIKE '%\\_outbox'")
        tables = [row[0] for row in cur.fetchall()]
        query = " + ".join(f"(SELECT count(*) FROM {t} WHERE delivered_at IS NULL AND failed_at IS NULL)"
                           for t in tables) or "0"
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            cur.execute(f"SELECT {query}")
            if cur.fetchone()[0] == 0:
                return True
            time.sleep(0.2)
        return False
