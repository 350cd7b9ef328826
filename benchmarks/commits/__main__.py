"""``python -m benchmarks.commits``: PostgreSQL transactions per checkout, request path and relay apart.

On a fresh database (created, then dropped): the app (``ecommerce serve``, one worker, relay off) takes
``--checkouts`` sequential checkouts over HTTP (add one unit to the cart, ``POST /orders`` with a fresh
``Idempotency-Key``); then this process relays their events (the kernel's relay-until-idle). Around each
part, ``xact_commit`` of the database is read from ``pg_stat_database``. PostgreSQL counts every
autocommitted statement as a transaction, so a plain ``SELECT`` outside ``atomic()`` counts too.

Reading the counter right: a backend reports its counters when it goes idle, at most once a second and
otherwise after ``PGSTAT_IDLE_INTERVAL`` (10 s). So the counter is read from a connection to another
database (the reading must not count itself), after ``pg_stat_clear_snapshot()``, until it stayed the
same for longer than that interval. The tracer (``tracer.py``) writes, in every process, which code made
each transaction; its count must equal the counter's, which the report states.

Writes ``benchmarks/results/commits.json``; ``python -m benchmarks.commits report`` renders
``docs/performance/commits.md`` from it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.commits import tracer
from benchmarks.http import servers
from benchmarks.http.client import Connection
from benchmarks.http.scenario import ADMIN, API, Customer, call, customer, customer_login, expect

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def quiet_autovacuum(url: str) -> None:
    """Vacuum and analyse now, then keep autovacuum off this database's tables: its workers' transactions
    count in ``xact_commit`` too (a vacuum takes one per table) and would land in a window at random."""
    with servers.autocommit_cursor(url) as cur:
        cur.execute("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
        for (table,) in cur.fetchall():
            cur.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)")
        cur.execute("VACUUM ANALYZE")


def settled_commits(admin: Any, name: str, limit: float = 60.0) -> int:
    """``xact_commit`` with every transaction so far in it: end the database's sessions, then read.

    A backend reports its counters when its transaction ends, at most once a second, and an idle one
    may hold them back; on exit it always reports. So every session on the database (the app's and this
    process's pooled connections) is ended first; the pools reconnect on their next use (a connection
    idle for over a second is checked before it is handed out).
    """
    deadline = time.monotonic() + limit
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        while True:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,))
            if cur.fetchone()[0] == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"sessions on {name} did not end within {limit} s")
            time.sleep(0.1)
        time.sleep(1.1)  # past the pools' one-second trust: they check (and replace) the ended connections
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (name,))
        return int(cur.fetchone()[0])


async def _prepare(base: str) -> tuple[Customer, int]:
    """A buyer with an address and a product with plenty of stock, through the public API."""
    conn = Connection(base)
    try:
        buyer = await customer(conn, "commits-buyer@example.com")
        made = await call(conn, "POST", "/users/me/addresses", {"street": "1 Bench Way", "city": "Springfield",
                          "country": "US"}, buyer.auth, status=201)
        buyer.address_id = made["id"]
        listing = await call(conn, "GET", "/products?limit=1")
        product_id = listing["items"][0]["id"]
        admin = await customer_login(conn, *ADMIN)
        warehouses = await call(conn, "GET", "/warehouses", headers=admin.auth)
        await call(conn, "PUT", f"/warehouses/{warehouses['items'][0]['id']}/stock/{product_id}",
                   {"quantity": 1_000_000}, admin.auth)
        await call(conn, "DELETE", "/cart", headers=buyer.auth)
        return buyer, product_id
    finally:
        await conn.close()


async def _checkouts(base: str, buyer: Customer, product_id: int, n: int,
                     after_each: Callable[[], object] | None = None) -> list[tuple[str, float, float]]:
    """``n`` sequential checkouts; returns (request, started, ended) for attributing the trace.
    ``after_each`` runs (blocking) after every checkout: the woken relay's passes."""
    conn = Connection(base)
    spans: list[tuple[str, float, float]] = []
    try:
        for _ in range(n):
            started = time.time()
            added = await conn.request("POST", API + "/cart/items", {"product_id": product_id, "quantity": 1},
                                       buyer.auth)
            expect(added.status == 200, f"add to cart answered {added.status}: {added.body[:200]!r}")
            middle = time.time()
            placed = await conn.request("POST", API + "/orders", {"address_id": buyer.address_id},
                                        {**buyer.auth, "Idempotency-Key": str(uuid.uuid4())})
            expect(placed.status == 201, f"checkout answered {placed.status}: {placed.body[:200]!r}")
            spans += [("add_to_cart", started, middle), ("post_orders", middle, time.time())]
            if after_each is not None:
                after_each()
    finally:
        await conn.close()
    return spans


#: The outboxes a checkout writes (add to cart publishes nothing; ``POST /orders``: OrderPlaced and the
#: reservation's StockChanged). In the app, the publish listener hints exactly these to its woken relay.
CHECKOUT_PUBLISHES = ("orders", "catalog")


def woken_relay(kernel: Any) -> Callable[[], int]:
    """What the app's background relay does when a checkout's commits wake it (``ecommerce.app``): passes
    over the hinted outboxes only (``Relay.run_hinted``) until no commit hints again. The checkouts run in
    the app's process, so their hint is given here by hand; events the handlers publish hint themselves.
    With a broker, what the app's consumers do too: the module queues drained after each pass."""
    relay = kernel.relay

    def settle() -> int:
        relay.hint(CHECKOUT_PUBLISHES)
        delivered = 0
        while True:
            while relay.hinted:
                delivered += kernel.runner.call(relay.run_hinted).delivered
            if kernel.consumers is None or (not kernel.consumers.drain().handled and not relay.hinted):
                return delivered

    return settle


def step(where: list[str]) -> str:
    """A transaction's step: the innermost function of a module's API or the kernel that made it."""
    return where[0] if where else "(outside ecommerce)"


def _steps(rows: list[dict[str, Any]], n: int) -> dict[str, float]:
    counts = Counter(f"{row['db']}: {step(row['where'])} ({row['kind']})" for row in rows)
    return {label: round(count / n, 2) for label, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def measure(checkouts: int, work: Path, broker_url: str | None = None) -> dict[str, Any]:
    import psycopg2

    from ecommerce.kernel.bootstrap import Kernel
    from ecommerce.kernel.settings import Settings

    trace = str(work / "trace.jsonl")
    with servers.postgres_database() as url:
        name = url.rpartition("/")[2]
        broker = {"ECOMMERCE_EVENT_BROKER_URL": broker_url,
                  "ECOMMERCE_EVENT_BROKER_NAMESPACE": f"bench-{uuid.uuid4().hex[:12]}"} if broker_url else {}
        env = servers.app_env(work / "data", url, ECOMMERCE_RUN_RELAY="false", ECOMMERCE_ACCESS_TOKEN_TTL="3600",
                              PYTHONPATH=os.pathsep.join([str(ROOT / "benchmarks" / "commits" / "trace"), str(ROOT)]),
                              **{tracer.ENV: trace}, **broker)
        servers.run_cli(env, "migrate")
        servers.run_cli(env, "seed")
        quiet_autovacuum(url)
        tracer.install(trace)
        kernel = Kernel(Settings.from_env(env))
        admin = psycopg2.connect(servers.ADMIN_URL)  # another database: reading does not count itself
        admin.autocommit = True
        try:
            with servers.app_server(env, 1, work / "app.log") as (base, _proc):
                buyer, product_id = asyncio.run(_prepare(base))
                kernel.relay_until_idle()  # the setup's own events, so the relay window holds only checkouts'
                before = settled_commits(admin, name)
                t0 = time.time()
                spans = asyncio.run(_checkouts(base, buyer, product_id, checkouts))
                t1 = time.time()
                after_requests = settled_commits(admin, name)
                t2 = time.time()
                relayed = kernel.relay_until_idle()
                t3 = time.time()
                after_relay = settled_commits(admin, name)
                # The same checkouts with the relay woken after each one (the app's normal running): small
                # batches, so the relay's fixed costs (claims, marks, inbox transactions) weigh more.
                settle = woken_relay(kernel)
                delivered: list[int] = []
                t4 = time.time()
                woken_spans = asyncio.run(_checkouts(base, buyer, product_id, checkouts,
                                                     lambda: delivered.append(settle())))
                t5 = time.time()
                after_woken = settled_commits(admin, name)
                left = kernel.relay_until_idle().delivered  # after the reading: must be 0 (all were hinted)
            with admin.cursor() as cur:
                cur.execute("SHOW server_version")
                version = cur.fetchone()[0]
        finally:
            admin.close()
            if kernel.broker is not None:
                kernel.broker.delete_topology()
            kernel.close()
    request_all = tracer.read(trace, t0, t1)
    relay_all = [row for row in tracer.read(trace, t2, t3) if row["pid"] == os.getpid()]
    woken_all = tracer.read(trace, t4, t5)
    woken_rows = [row for row in woken_all if row["kind"] != "connect"]
    woken_relay_rows = [row for row in woken_rows if row["pid"] == os.getpid()]
    woken_sessions = len(woken_all) - len(woken_rows)
    woken_commits = after_woken - after_relay - woken_sessions
    by_woken = {label: [r for r in woken_rows if r["pid"] != os.getpid()
                        and any(lbl == label and a <= r["t"] <= b for lbl, a, b in woken_spans)]
                for label in ("add_to_cart", "post_orders")}
    request_rows = [row for row in request_all if row["kind"] != "connect"]
    relay_rows = [row for row in relay_all if row["kind"] != "connect"]
    by_request = {label: [r for r in request_rows if any(lbl == label and a <= r["t"] <= b for lbl, a, b in spans)]
                  for label in ("add_to_cart", "post_orders")}
    # Each reading ends the sessions, so each window starts by opening new ones (a transaction each); a
    # running pool reuses its sessions, so they are counted apart and left out of the per-checkout figure.
    request_sessions, relay_sessions = len(request_all) - len(request_rows), len(relay_all) - len(relay_rows)
    request_commits = after_requests - before - request_sessions
    relay_commits = after_relay - after_requests - relay_sessions
    return {
        "backend": "postgres",
        "transport": "rabbitmq" if broker_url else "in-process",
        "checkouts": checkouts,
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "postgres": version, "cpus": os.cpu_count()},
        "request_path": {
            "xact_commit": request_commits + request_sessions,
            "new_sessions": request_sessions,
            "per_checkout": round(request_commits / checkouts, 2),
            "traced": len(request_rows),
            "per_request": {label: round(len(rows) / checkouts, 2) for label, rows in by_request.items()},
            "steps": {label: _steps(rows, checkouts) for label, rows in by_request.items()},
        },
        "relay": {
            "xact_commit": relay_commits + relay_sessions,
            "new_sessions": relay_sessions,
            "per_checkout": round(relay_commits / checkouts, 2),
            "traced": len(relay_rows),
            "delivered": relayed.delivered,
            "steps": _steps(relay_rows, checkouts),
        },
        "total_per_checkout": round((request_commits + relay_commits) / checkouts, 2),
        "woken": {
            "xact_commit": woken_commits + woken_sessions,
            "new_sessions": woken_sessions,
            "traced": len(woken_rows),
            "per_checkout": round(woken_commits / checkouts, 2),
            "request_path_per_checkout": round((len(woken_rows) - len(woken_relay_rows)) / checkouts, 2),
            "per_request": {label: round(len(rows) / checkouts, 2) for label, rows in by_woken.items()},
            "relay_per_checkout": round(len(woken_relay_rows) / checkouts, 2),
            "delivered": sum(delivered),
            "left_for_a_full_pass": left,
            "relay_steps": _steps(woken_relay_rows, checkouts),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.commits", description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["run", "report"], default="run")
    parser.add_argument("--checkouts", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None,
                        help="default: benchmarks/results/commits.json (with rabbitmq: commits-rabbitmq.json)")
    parser.add_argument("--transport", choices=["in-process", "rabbitmq"], default="in-process",
                        help="rabbitmq: events over the broker (the relay publishes, this process consumes)")
    parser.add_argument("--broker-url", default=os.environ.get("ECOMMERCE_EVENT_BROKER_URL",
                                                              "amqp://guest:guest@127.0.0.1:5672/"))
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = RESULTS / ("commits-rabbitmq.json" if args.transport == "rabbitmq" else "commits.json")
    if args.action == "report":
        from benchmarks.commits.report import write

        print(write())
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-commits-") as tmp:
        result = measure(args.checkouts, Path(tmp), args.broker_url if args.transport == "rabbitmq" else None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    request, relay = result["request_path"], result["relay"]
    print(f"request path: {request['per_checkout']} commits per checkout ({request['xact_commit']} counted, "
          f"{request['new_sessions']} of them new sessions, {request['traced']} traced); relay: "
          f"{relay['per_checkout']} ({relay['xact_commit']} counted, {relay['new_sessions']} new sessions, "
          f"{relay['traced']} traced); total {result['total_per_checkout']}. Relay woken after each checkout: "
          f"total {result['woken']['per_checkout']} (relay {result['woken']['relay_per_checkout']}, "
          f"{result['woken']['xact_commit']} counted, {result['woken']['traced']} traced) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
