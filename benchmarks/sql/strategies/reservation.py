"""Suite 5 — reserving stock under concurrency: which strategies oversell, and how fast each one is.

Threads race to reserve one unit each, twice as many attempts as there are units, either all on one
hot product or spread over many products. Strategies (ADR 0012):

- ``naive``: read the stock, then write the new ``reserved`` value computed in Python — the classic lost
  update: two readers see the same stock and both succeed, so it oversells;
- ``conditional``: one ``UPDATE ... SET reserved = reserved + 1 WHERE quantity - reserved >= 1``; the
  row count says whether it worked (what ``catalog.reserve`` does);
- ``for_update``: a transaction that locks the row (``SELECT ... FOR UPDATE``; on SQLite the write
  transaction, ``BEGIN IMMEDIATE``, is that lock), checks, then updates;
- ``optimistic``: read the row and its ``version``, ``UPDATE ... WHERE version = :read``, retry on a miss;
- ``skip_locked`` (PostgreSQL): the product's stock split into buckets; each reserver takes the first
  bucket nobody holds (``FOR UPDATE SKIP LOCKED``), so hot-product reservers stop queueing on one row.

The tables are scratch copies in the catalog database (``bench_stock``, ``bench_stock_bucket``) with the
production table's CHECK (``quantity >= reserved``), reset before every round. Oversell = successful
reservations beyond the stock.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from peewee import Database

from benchmarks.sql.harness import Plan, Target, execute, fetch
from ecommerce.kernel.database import is_postgres
from ecommerce.modules.catalog.models import database

THREADS = 8
SCENARIOS = {"hot": (1, 100), "many": (50, 4)}  # products, units each
SMOKE_SCENARIOS = {"hot": (1, 20), "many": (10, 2)}
BUCKETS = 8
STOCK = "bench_stock"
BUCKET = "bench_stock_bucket"


@dataclass
class Outcome:
    attempts: int = 0
    successes: int = 0
    retries: int = 0
    stock: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def oversell(self) -> int:
        return max(0, self.successes - self.stock)

    def summary(self) -> dict[str, int]:
        return {"attempts": self.attempts, "successes": self.successes, "stock": self.stock,
                "oversell": self.oversell, "retries": self.retries}


def prepare(target: Target) -> dict[str, Any]:
    def build() -> None:
        db = target.db("catalog")
        for table in (STOCK, BUCKET):
            execute(db, f"DROP TABLE IF EXISTS {table}")
        execute(db, f"CREATE TABLE {STOCK} (product_id INTEGER PRIMARY KEY, quantity INTEGER NOT NULL, "
                    "reserved INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0, "
                    "CHECK (reserved >= 0 AND quantity >= reserved))")
        execute(db, f"CREATE TABLE {BUCKET} (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, "
                    "bucket INTEGER NOT NULL, quantity INTEGER NOT NULL, reserved INTEGER NOT NULL DEFAULT 0, "
                    "CHECK (reserved >= 0 AND quantity >= reserved))")
        execute(db, f"CREATE INDEX {BUCKET}_product ON {BUCKET} (product_id, bucket)")

    target.call(build)
    products = target.call(lambda: [r[0] for r in fetch(target.db("catalog"),
                                                          "SELECT id FROM product ORDER BY id LIMIT 50")])
    return {"products": products, "postgres": target.postgres}


def strategies(postgres: bool) -> tuple[str, ...]:
    base = ("naive", "conditional", "for_update", "optimistic")
    return (*base, "skip_locked") if postgres else base


def reset(target: Target, ctx: dict[str, Any], scenario: str, sizes: dict[str, tuple[int, int]]) -> list[int]:
    """Fresh stock for a round; returns the product each attempt goes for (deterministic order)."""
    count, units = sizes[scenario]
    products = ctx["products"][:count]

    def refill() -> None:
        db = target.db("catalog")
        with db.atomic():
            execute(db, f"DELETE FROM {STOCK}")
            execute(db, f"DELETE FROM {BUCKET}")
            for n, pid in enumerate(products):
                execute(db, f"INSERT INTO {STOCK} (product_id, quantity) VALUES (?, ?)", (pid, units))
                buckets = min(BUCKETS, units)
                for b in range(buckets):
                    share = units // buckets + (1 if b < units % buckets else 0)
                    execute(db, f"INSERT INTO {BUCKET} (id, product_id, bucket, quantity) VALUES (?, ?, ?, ?)",
                            (n * BUCKETS + b + 1, pid, b, share))

    target.call(refill)
    attempts = [pid for pid in products for _ in range(2 * units)]
    random.Random(7).shuffle(attempts)
    return attempts


def _naive(db: Database, pid: int, outcome: Outcome) -> bool:
    quantity, reserved = fetch(db, f"SELECT quantity, reserved FROM {STOCK} WHERE product_id = ?", (pid,))[0]
    if quantity - reserved < 1:
        return False
    execute(db, f"UPDATE {STOCK} SET reserved = ? WHERE product_id = ?", (reserved + 1, pid))
    return True


def _conditional(db: Database, pid: int, outcome: Outcome) -> bool:
    return execute(db, f"UPDATE {STOCK} SET reserved = reserved + 1 WHERE product_id = ? "
                       "AND quantity - reserved >= 1", (pid,)) == 1


def _for_update(db: Database, pid: int, outcome: Outcome) -> bool:
    lock = " FOR UPDATE" if is_postgres(db) else ""  # SQLite: BEGIN IMMEDIATE already locked
    with db.atomic():
        quantity, reserved = fetch(db, f"SELECT quantity, reserved FROM {STOCK} WHERE product_id = ?{lock}",
                                   (pid,))[0]
        if quantity - reserved < 1:
            return False
        execute(db, f"UPDATE {STOCK} SET reserved = reserved + 1 WHERE product_id = ?", (pid,))
        return True


def _optimistic(db: Database, pid: int, outcome: Outcome) -> bool:
    while True:
        quantity, reserved, version = fetch(
            db, f"SELECT quantity, reserved, version FROM {STOCK} WHERE product_id = ?", (pid,))[0]
        if quantity - reserved < 1:
            return False
        if execute(db, f"UPDATE {STOCK} SET reserved = reserved + 1, version = version + 1 "
                       "WHERE product_id = ? AND version = ?", (pid, version)) == 1:
            return True
        with outcome.lock:
            outcome.retries += 1


def _skip_locked(db: Database, pid: int, outcome: Outcome) -> bool:
    while True:
        with db.atomic():
            row = fetch(db, f"SELECT id FROM {BUCKET} WHERE product_id = ? AND quantity > reserved "
                            "ORDER BY bucket LIMIT 1 FOR UPDATE SKIP LOCKED", (pid,))
            if row:
                execute(db, f"UPDATE {BUCKET} SET reserved = reserved + 1 WHERE id = ?", (row[0][0],))
                return True
        # Nothing free and unlocked: sold out, or every bucket with stock is busy right now.
        if not fetch(db, f"SELECT 1 FROM {BUCKET} WHERE product_id = ? AND quantity > reserved LIMIT 1", (pid,)):
            return False
        with outcome.lock:
            outcome.retries += 1


STRATEGIES = {"naive": _naive, "conditional": _conditional, "for_update": _for_update,
              "optimistic": _optimistic, "skip_locked": _skip_locked}


def race(target: Target, strategy: str, attempts: list[int], stock: int) -> Outcome:
    """``THREADS`` threads share the attempts; returns what happened (the timed part)."""
    attempt = STRATEGIES[strategy]
    outcome = Outcome(attempts=len(attempts), stock=stock)
    queue = iter(attempts)
    take = threading.Lock()
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            while True:
                with take:
                    pid = next(queue, None)
                if pid is None:
                    return
                if attempt(database, pid, outcome):
                    with outcome.lock:
                        outcome.successes += 1
        except BaseException as exc:  # reported by the caller: a failed race is a failed benchmark
            errors.append(exc)
        finally:
            target.kernel.databases.release_thread_connections()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return outcome


def plan(strategy: str, product_id: int, postgres: bool) -> Plan:
    """The statement that decides each attempt (the one that takes or checks the lock)."""
    statements = {
        "naive": f"UPDATE {STOCK} SET reserved = ? WHERE product_id = ?",
        "conditional": f"UPDATE {STOCK} SET reserved = reserved + 1 WHERE product_id = ? AND quantity - reserved >= 1",
        "for_update": f"SELECT quantity, reserved FROM {STOCK} WHERE product_id = ?"
                      + (" FOR UPDATE" if postgres else ""),
        "optimistic": f"UPDATE {STOCK} SET reserved = reserved + 1, version = version + 1 "
                      "WHERE product_id = ? AND version = ?",
        "skip_locked": f"SELECT id FROM {BUCKET} WHERE product_id = ? AND quantity > reserved "
                       "ORDER BY bucket LIMIT 1 FOR UPDATE SKIP LOCKED",
    }
    params: tuple[int, ...] = {"naive": (1, product_id), "optimistic": (product_id, 0)}.get(strategy, (product_id,))
    return Plan("catalog", statements[strategy], params)


def stock_of(scenario: str, sizes: dict[str, tuple[int, int]]) -> int:
    count, units = sizes[scenario]
    return count * units


def reserved_total(target: Target, strategy: str) -> int:
    """What the table says was reserved (the naive strategy's lost updates make this < successes)."""
    table = BUCKET if strategy == "skip_locked" else STOCK
    return int(target.call(lambda: fetch(target.db("catalog"), f"SELECT coalesce(sum(reserved), 0) FROM {table}")
                           )[0][0])
