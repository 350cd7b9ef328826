"""What every suite shares: the database under test, query counting, EXPLAIN, placeholders.

A variant is a plain function ``(ctx, param) -> rows``; it runs against a ``Target`` (a kernel bound to
one backend's databases). Queries are counted with peewee's query hooks; variants that go to the
driver directly (COPY, ``execute_values``, the raw-driver lookup) report theirs through ``raw()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from peewee import Database

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.database import is_postgres

Rows = list[Any]


@dataclass
class Target:
    """One backend's databases, with the dataset generated at ``scale``."""

    backend: str  # "sqlite" | "postgres"
    kernel: Kernel
    scale: int
    cache: dict[str, Any] = field(default_factory=dict)  # per-suite prepared context

    def db(self, module: str) -> Database:
        return self.kernel.databases.get(module)

    @property
    def postgres(self) -> bool:
        return is_postgres(self.db("orders"))

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run with this thread's pooled connections returned afterwards (as the app does)."""
        return self.kernel.runner.call(fn, *args)


def sql(db: Database, text: str) -> str:
    """Write SQL with ``?`` placeholders; psycopg2 wants ``%s``."""
    return text.replace("?", "%s") if is_postgres(db) else text


def fetch(db: Database, text: str, params: Sequence[Any] = ()) -> Rows:
    return list(db.execute_sql(sql(db, text), params).fetchall())


def execute(db: Database, text: str, params: Sequence[Any] = ()) -> int:
    return int(db.execute_sql(sql(db, text), params).rowcount)


_lock = threading.Lock()
_total = [0]


def raw(n: int = 1) -> None:
    """A variant that bypasses peewee reports its round trips here."""
    with _lock:
        _total[0] += n


@contextmanager
def counting(target: Target) -> Iterator[list[int]]:
    """``with counting(t) as n: ...`` then ``n[0]`` is how many statements reached the databases."""
    def hook(event: object) -> None:
        raw(1)

    dbs = [db for _, db in target.kernel.databases]
    for db in dbs:
        db.query_hooks.append(hook)
    before = _total[0]
    result = [0]
    try:
        yield result
    finally:
        for db in dbs:
            db.query_hooks.remove(hook)
        result[0] = _total[0] - before


def explain(db: Database, text: str, params: Sequence[Any] = ()) -> str:
    """The plan the database picks (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL)."""
    prefix = "EXPLAIN " if is_postgres(db) else "EXPLAIN QUERY PLAN "
    rows = fetch(db, prefix + text, params)
    if is_postgres(db):
        return "\n".join(str(r[0]) for r in rows)
    return "\n".join(str(r[-1]) for r in rows)


@dataclass(frozen=True)
class Plan:
    """The statement whose plan a variant stands for (its main query)."""

    module: str
    text: str
    params: Sequence[Any] = ()

    def of(self, target: Target) -> str:
        return target.call(explain, target.db(self.module), self.text, self.params)
