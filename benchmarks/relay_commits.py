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
import threading
import time
import uuid
from pathlib import Path

import peewee
import psycopg2
from psycopg2 import sql

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.events.tables import add_publish_listener, remove_publish_listener
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog import products, stock
from ecommerce.modules.orders import cart, lifecycle
from ecommerce.modules.users import addresses, api

ADDRESS = {"street": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701", "country": "US"}
_n = itertools.count(1)
#: Seconds to wait before reading the statistics: an idle backend with unreported commits reports them
#: within PGSTAT_IDLE_INTERVAL (10 s); reading sooner puts some of one phase's commits into the next.
STATS_DELAY = 11.0


def xact_commit(url: str) -> int:
    """Commits of the database ``url`` names so far, once every backend has reported (``STATS_DELAY``)."""
    time.sleep(STATS_DELAY)
    conn = psycopg2.connect(url)  # not autocommit: this read ends in a rollback, so it adds no commit itself
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            row = cur.fetchone()
        conn.rollback()
    finally:
        conn.close()
    assert row is not None
    return int(row[0])


class ClientCommits:
    """Counts, on the client, the transactions the kernel's connections commit: a statement run outside a
    transaction (autocommit) or an explicit COMMIT. Exact, where ``xact_commit`` also counts the
    server's own work in the window (autovacuum, autoanalyze of freshly filled tables). Benchmark only:
    it wraps peewee's ``Database.execute_sql`` and ``commit`` while active."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> ClientCommits:
        self._execute, self._commit = peewee.Database.execute_sql, peewee.Database.commit
        execute, commit, counter = self._execute, self._commit, self

        def counting_execute(db: peewee.Database, sql_text: str, params: object = None) -> object:
            if not db.in_transaction():
                counter.add()
            return execute(db, sql_text, params)

        def counting_commit(db: peewee.Database) -> object:
            counter.add()
            return commit(db)

        peewee.Database.execute_sql = counting_execute  # type: ignore[method-assign,assignment]
        peewee.Database.commit = counting_commit  # type: ignore[method-assign,assignment]
        return self

    def add(self) -> None:
        with self._lock:
            self.count += 1

    def __exit__(self, *exc: object) -> None:
        peewee.Database.execute_sql = self._execute  # type: ignore[method-assign]
        peewee.Database.commit = self._commit  # type: ignore[method-assign]


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


def settle(kernel: Kernel, woken: list[bool]) -> int:
    """Do what the background relay (``ecommerce.app._relay_loop``) does after commits woke it: pass after
    pass while woken. Returns the events delivered. ``woken`` is set by a publish listener."""
    relay = kernel.relay
    delivered = 0
    if hasattr(relay, "run_hinted"):  # issue 15: a woken pass looks only at the outboxes that committed
        while relay.hinted:
            delivered += kernel.runner.call(relay.run_hinted).delivered
    else:  # before: each wake-up was a pass over every outbox; a pass whose handlers published woke it again
        while woken[0]:
            woken[0] = False
            delivered += kernel.runner.call(relay.run_once).delivered
    return delivered


def relay_commits_per_checkout(
    kernel: Kernel, url: str, count: int = 20, each: bool = True
) -> tuple[float, float, int]:
    """(relay commits per checkout by ``xact_commit``, the same counted on the client, events delivered)
    for delivering the events of ``count`` checkouts (add-to-cart + checkout); ``url`` names the kernel's
    PostgreSQL database.

    ``each``: after every checkout, the passes of the background relay its commits woke (:func:`settle`).
    The statistics cannot be read between a checkout and its relay passes (they lag by up to 10 s), so
    this runs ``count`` checkouts with their relay passes, then ``count`` without, and takes the
    difference. Otherwise: ``ecommerce events relay`` once after all of them (a backlog), counted alone.
    """
    product_id, people = shoppers(kernel, 2 * count)
    woken = [False]

    def listener(*modules: object) -> None:
        woken[0] = True

    def buy(user_id: int, address_id: int) -> None:
        kernel.runner.call(cart.add, user_id, product_id, 1)
        kernel.runner.call(lifecycle.checkout, user_id, address_id)

    add_publish_listener(listener)
    try:
        kernel.relay_until_idle()
        settle(kernel, woken)
        woken[0] = False
        if not each:
            for person in people[:count]:
                buy(*person)
            before = xact_commit(url)
            with ClientCommits() as client:
                delivered = kernel.relay_until_idle().delivered
            return (xact_commit(url) - before) / count, client.count / count, delivered
        start = xact_commit(url)
        delivered = relay_client = 0
        with ClientCommits() as client:
            for person in people[:count]:
                buy(*person)
                before_relay = client.count
                delivered += settle(kernel, woken)
                relay_client += client.count - before_relay
        with_relay = xact_commit(url)
        for person in people[count:]:
            buy(*person)
        without_relay = xact_commit(url)
        kernel.relay_until_idle()
        settle(kernel, woken)
        return ((with_relay - start) - (without_relay - with_relay)) / count, relay_client / count, delivered
    finally:
        remove_publish_listener(listener)


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
                for each, how in ((True, "background relay woken by each checkout"), (False, "one drain after all")):
                    started = time.perf_counter()
                    server, client, delivered = relay_commits_per_checkout(kernel, url, args.checkouts, each)
                    took = time.perf_counter() - started
                    print(f"{how}: relay commits per checkout {server:.1f} (xact_commit), {client:.1f} (client) "
                          f"- {delivered} events delivered for {args.checkouts} checkouts, {took:.0f} s")
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
