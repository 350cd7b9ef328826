"""How many commits the relay spends per checkout on PostgreSQL (issue 15 item 1).

Runs N checkouts (a new shopper, one add-to-cart, ``POST /orders``'s use case) with no relay running,
then counts ``xact_commit`` in ``pg_stat_database`` for the benchmark database around draining the
outbox (``Kernel.relay_until_idle``), relay only. Every statement outside an explicit transaction is a
commit there too, so the figure counts the relay's polls as well as its claims, inbox transactions and
marks. A measurement, not a test::

    python -m benchmarks.relay_commits                 # N = 20 on the default local PostgreSQL
    python -m benchmarks.relay_commits --checkouts 50 --admin-url postgresql://postgres@127.0.0.1:5432/postgres

``relay_commits_per_checkout`` is a plain function so a wider benchmark (request path + relay) can
call it with its own kernel.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2
from psycopg2 import sql

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog import products, stock
from ecommerce.modules.orders import cart, lifecycle
from ecommerce.modules.users import addresses, api

ADDRESS = {"street": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701", "country": "US"}
_n = itertools.count(1)
STATS_DELAY = 1.2  # seconds: PostgreSQL's minimum interval between a backend's statistics reports, plus margin


def xact_commit(url: str) -> int:
    """Commits of the database ``url`` names so far. Backends report their statistics at most once a
    second (and when idle), so wait that long first: reading sooner misses the last commits."""
    time.sleep(STATS_DELAY)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            row = cur.fetchone()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


def shoppers(kernel: Kernel, count: int) -> tuple[int, list[tuple[int, int]]]:
    """A product with enough stock and ``count`` shoppers with an address: (product id, [(user, address)])."""
    item = kernel.runner.call(
        products.create,
        {"name": "Bench item", "price": 1500, "currency": "USD", "identification": f"B-{uuid.uuid4().hex[:8]}"},
    )
    warehouse = kernel.runner.call(
        stock.create_warehouse,
        f"Bench WH {next(_n)}",
        {"city": "X", "country": "DE", "latitude": None, "longitude": None},
    )
    kernel.runner.call(stock.set_stock, warehouse["id"], item["id"], count * 2)
    people = []
    for _ in range(count):
        user = kernel.runner.call(api.register, f"bench{uuid.uuid4().hex[:10]}@example.com", "bench-password-1")
        address = kernel.runner.call(addresses.create, user.id, dict(ADDRESS))
        people.append((int(user.id), int(address.id)))
    return int(item["id"]), people


def relay_commits_per_checkout(kernel: Kernel, url: str, count: int = 20, each: bool = True) -> tuple[float, int]:
    """(relay commits per checkout, events delivered) for delivering the events of ``count`` checkouts
    (add-to-cart + checkout). ``each``: drain after every checkout, as the woken background relay does;
    otherwise once after all of them (a relay catching up on a backlog). Only the relay is counted;
    ``url`` names the kernel's PostgreSQL database."""
    product_id, people = shoppers(kernel, count)
    kernel.relay_until_idle()
    commits = delivered = 0

    def drain() -> None:
        nonlocal commits, delivered
        before = xact_commit(url)
        delivered += kernel.relay_until_idle().delivered
        commits += xact_commit(url) - before

    for user_id, address_id in people:
        kernel.runner.call(cart.add, user_id, product_id, 1)
        kernel.runner.call(lifecycle.checkout, user_id, address_id)
        if each:
            drain()
    if not each:
        drain()
    return commits / count, delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkouts", type=int, default=20)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"ecommerce_relaybench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(args.admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"{args.admin_url.rpartition('/')[0]}/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                env="test", data_dir=Path(tmp), secret_key="bench-" + "x" * 40, database_url=url, run_relay=False,
                argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1, log_level="WARNING",
                rate_limit="1000000/minute", auth_rate_limit="1000000/minute", user_rate_limit="1000000/minute",
            )  # type: ignore[call-arg]
            kernel = Kernel(settings)
            kernel.migrate()
            try:
                for each, how in ((True, "relay woken after each checkout"), (False, "one drain after all")):
                    started = time.perf_counter()
                    per_checkout, delivered = relay_commits_per_checkout(kernel, url, args.checkouts, each)
                    took = time.perf_counter() - started
                    print(f"{how}: {per_checkout:.1f} relay commits per checkout "
                          f"({delivered} events delivered for {args.checkouts} checkouts, {took:.1f} s)")
            finally:
                kernel.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.close()


if __name__ == "__main__":
    main()
