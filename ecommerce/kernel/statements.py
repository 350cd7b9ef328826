"""``Statement``: a peewee query compiled to SQL once per database, then run with new parameters.

Why: for a point lookup, building a peewee query, compiling it to SQL and turning rows into model
instances costs more CPU than the database round trip itself (py-spy on ``GET /products/{id}``,
benchmarks/http). The hottest reads are still written with peewee — so they stay readable, portable
between SQLite and PostgreSQL and checked against the models — but compiled once; each call only binds
its parameters and gets plain tuples back.

    by_id = Statement(database, lambda pid: Product.select(Product.id, Product.name).where(Product.id == pid))
    rows = by_id.rows(42)            # [(42, "Lamp")]

Writes work the same way (``Statement.execute``: the rows changed; an ``INSERT ... RETURNING`` goes through
``rows``). Every statement of a checkout is compiled once (issue 15, ADR 0015): the idempotency key's claim
and answer, the cart, the address, the reservation, the order and its lines, the outbox row, the relay's
inbox; a statement whose shape depends on a count (``IN`` lists, multi-row inserts) is compiled once per count.

The builder is called with stand-in values (large integers, or marked strings; one ``int`` per parameter of
the builder unless ``kinds`` say otherwise); every stand-in found
among the compiled query's parameters becomes a slot for the corresponding argument. A stand-in that
does not come back unchanged (a converter altered it) is an error at first use, not a wrong query.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any

from peewee import Database, DatabaseProxy

from ecommerce.kernel.database import PooledPostgres, Prepared

_INT_MARK = 7_919_000_000_000
_STR_MARK = "\x00statement-parameter-"


def _stand_in(index: int, kind: type) -> Any:
    return f"{_STR_MARK}{index}" if kind is str else _INT_MARK + index


def _arity(build: Callable[..., Any]) -> int:
    return sum(1 for p in inspect.signature(build).parameters.values()
               if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


class Statement:
    def __init__(self, database: Database | DatabaseProxy, build: Callable[..., Any], *kinds: type) -> None:
        """``build(*args)`` returns a peewee query on ``database`` (a module's proxy: bound at run time);
        ``kinds`` are the argument types (by default ``int`` for each parameter of ``build``)."""
        self._database = database
        self._build = build
        self._kinds: tuple[type, ...] = kinds or (int,) * max(1, _arity(build))
        self._compiled: dict[int, tuple[Database, str, list[tuple[bool, Any]], Prepared | None]] = {}
        self._lock = threading.Lock()

    def _compile(self, db: Database) -> tuple[str, list[tuple[bool, Any]], Prepared | None]:
        found = self._compiled.get(id(db))
        if found is not None and found[0] is db:
            return found[1], found[2], found[3]
        stand_ins = [_stand_in(i, kind) for i, kind in enumerate(self._kinds)]
        query = self._build(*stand_ins)
        sql, params = query.sql()
        slots: list[tuple[bool, Any]] = []
        for value in params:
            if value in stand_ins:
                slots.append((True, stand_ins.index(value)))
            else:
                slots.append((False, value))
        if sum(1 for is_arg, _ in slots if is_arg) < len(stand_ins):
            raise ValueError(f"a parameter of {self._build!r} was converted on its way into the SQL")
        prepared = Prepared(sql) if isinstance(db, PooledPostgres) else None
        with self._lock:
            self._compiled[id(db)] = (db, sql, slots, prepared)
        return sql, slots, prepared

    def rows(self, *args: Any) -> list[tuple[Any, ...]]:
        """Run the statement with ``args``; all rows as tuples."""
        return list(self._run(args).fetchall())

    def execute(self, *args: Any) -> int:
        """Run a write (insert, update, delete) with ``args``; the number of rows it changed. A datetime
        argument is declared ``str`` (the stand-in passes a date field unchanged) and given as a datetime."""
        return int(self._run(args).rowcount)

    def _run(self, args: Sequence[Any]) -> Any:
        db = self._database
        real = db.obj if isinstance(db, DatabaseProxy) else db
        sql, slots, prepared = self._compile(real)
        bound: Sequence[Any] = [args[v] if is_arg else v for is_arg, v in slots]
        if prepared is not None:  # PostgreSQL: a prepared statement, once per session (kernel/database.py)
            return real.execute_compiled(sql, bound, prepared)  # type: ignore[union-attr]
        return real.execute_sql(sql, bound)
