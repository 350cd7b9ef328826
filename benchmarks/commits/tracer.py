"""Which code made each PostgreSQL transaction: peewee patched to write one line per transaction.

Why a tracer next to ``xact_commit``: PostgreSQL counts transactions per database, not per caller. With
peewee in autocommit mode a transaction is either a statement run outside ``atomic()`` (PostgreSQL
commits it on its own) or a ``COMMIT``; each such moment is written, with the ``ecommerce`` frames that
caused it, as one JSON line to the file ``ECOMMERCE_BENCH_COMMIT_TRACE`` names, and so is each new
session (PostgreSQL counts one transaction for it) and each pool check (``SELECT 1``). Installed in the
app's processes by ``trace/sitecustomize.py``, in the benchmark's own process by :func:`install`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

ENV = "ECOMMERCE_BENCH_COMMIT_TRACE"
_lock = threading.Lock()
_installed = False


def _where() -> list[str]:
    """The ``ecommerce`` frames on the stack, innermost first, without the database plumbing."""
    frames = []
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        # A compiled statement (kernel.statements) is plumbing too: the code that ran it is named.
        if name.startswith("ecommerce.") and name not in ("ecommerce.kernel.database", "ecommerce.kernel.statements"):
            frames.append(f"{name.removeprefix('ecommerce.').removeprefix('modules.')}.{frame.f_code.co_name}")
        frame = frame.f_back
    return frames


def _write(path: str, kind: str, app: str, sql: str = "") -> None:
    line = json.dumps({"t": time.time(), "kind": kind, "pid": os.getpid(), "db": app.removeprefix("ecommerce-"),
                       "sql": sql[:60], "where": _where()})
    with _lock, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def install(path: str | None = None) -> None:
    """Patch peewee's PostgreSQL database so each committed transaction leaves a line in ``path``."""
    global _installed
    path = path or os.environ.get(ENV)
    if not path or _installed:
        return
    _installed = True
    from peewee import PostgresqlDatabase, Psycopg2Adapter

    execute_sql, commit = PostgresqlDatabase.execute_sql, PostgresqlDatabase.commit
    is_closed, connect = Psycopg2Adapter.is_connection_closed, PostgresqlDatabase._connect

    def app_of(db: Any) -> str:
        return str(db.connect_params.get("application_name", ""))

    def traced_execute(self: Any, sql: str, params: Any = None) -> Any:
        alone = not self.in_transaction() and not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))
        cursor = execute_sql(self, sql, params)
        if alone:  # autocommit: PostgreSQL committed this statement as a transaction of its own
            _write(path, "autocommit", app_of(self), sql)
        return cursor

    def traced_commit(self: Any) -> Any:
        done = commit(self)
        _write(path, "commit", app_of(self))
        return done

    def traced_is_closed(self: Any, conn: Any) -> bool:
        idle = self.txn_status(conn) == self.txn_idle
        closed = bool(is_closed(self, conn))
        if idle and not closed:  # the pool's ``SELECT 1`` on a connection idle for over a second
            _write(path, "pool check", str(conn.info.parameter_status("application_name") or ""), "SELECT 1")
        return closed

    def traced_connect(self: Any) -> Any:
        conn = connect(self)
        _write(path, "connect", app_of(self))  # a new session is a transaction too (authentication reads)
        return conn

    PostgresqlDatabase._connect = traced_connect  # type: ignore[method-assign]
    PostgresqlDatabase.execute_sql = traced_execute  # type: ignore[method-assign]
    PostgresqlDatabase.commit = traced_commit  # type: ignore[method-assign]
    Psycopg2Adapter.is_connection_closed = traced_is_closed  # type: ignore[method-assign]


def read(path: str, since: float, until: float) -> list[dict[str, Any]]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [row for row in rows if since <= row["t"] <= until]
