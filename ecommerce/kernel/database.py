"""One database per module: build the peewee ``Database`` a URL names and bind it to the module's proxy.

Why a separate ``Database`` object (and pool) per module even when they share one file or server: a
module's connection can only see its own transaction, so a cross-module transaction is impossible by
construction, and carving a module out later only means changing its URL.

- SQLite (embedded default): WAL, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for
  transactions so two writers queue on the lock instead of deadlocking on a read->write upgrade.
- PostgreSQL: a connection pool whose ``search_path`` is the module's own schema, so unqualified
  table names land in ``users.*``, ``catalog.*``... and another module's tables are not even visible.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from peewee import Database, DatabaseProxy, PostgresqlDatabase
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from ecommerce.kernel.settings import Settings


@dataclass(frozen=True)
class DatabaseTarget:
    """Where a module's tables live, parsed from its URL."""

    backend: str  # "sqlite" | "postgresql"
    url: str
    path: str | None = None
    dbname: str | None = None
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> DatabaseTarget:
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            # sqlite:///relative/path.db and sqlite:////absolute/path.db, as SQLAlchemy spells them.
            return cls("sqlite", url, path=unquote(parts.path[1:] if parts.path.startswith("/") else parts.path))
        return cls(
            "postgresql",
            url,
            dbname=unquote(parts.path.lstrip("/")),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=parts.port,
        )

    def pg_params(self) -> dict[str, object]:
        params = {"user": self.user, "password": self.password, "host": self.host, "port": self.port}
        return {key: value for key, value in params.items() if value is not None}


#: A connection back in the pool for less than this is handed out again without a ``SELECT 1``.
TRUSTED_FOR_SECONDS = 1.0


class PooledPostgres(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, minus a round trip per use case.

    peewee checks every connection it hands out with ``SELECT 1`` — under the pool's lock, so use cases
    queue behind each other's round trips: 26 % of an uncached product read's time (py-spy, benchmarks/http).
    A connection that was working a second ago is trusted as it is; one idle for longer is still checked.
    If the server went away in between, psycopg2 marks the connection closed on its first failed query
    (that one request fails) and the pool drops it on check-in.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checked_in: dict[int, float] = {}

    def _is_closed(self, conn: Any) -> bool:
        if conn.closed:
            return True
        if time.monotonic() - self._checked_in.get(id(conn), 0.0) < TRUSTED_FOR_SECONDS:
            return False
        return bool(super()._is_closed(conn))

    def _close(self, conn: Any, close_conn: bool = False) -> None:
        self._checked_in[id(conn)] = time.monotonic()
        super()._close(conn, close_conn)
        if close_conn or conn.closed:
            self._checked_in.pop(id(conn), None)


def open_database(module: str, target: DatabaseTarget, settings: Settings) -> Database:
    """Create (but do not connect) the database a module will use."""
    if target.backend == "sqlite":
        assert target.path is not None
        Path(target.path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSqliteDatabase(
            target.path,
            max_connections=settings.db_pool_size,
            timeout=settings.db_pool_timeout,
            stale_timeout=300,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "synchronous": "normal",
                "busy_timeout": int(settings.sqlite_busy_timeout * 1000),
            },
            lock_type="IMMEDIATE",
            check_same_thread=False,
        )
    return PooledPostgres(
        target.dbname,
        max_connections=settings.db_pool_size,
        timeout=settings.db_pool_timeout,
        stale_timeout=300,
        options=f"-c search_path={module}",
        application_name=f"ecommerce-{module}",
        **target.pg_params(),
    )


def is_postgres(db: Database | DatabaseProxy) -> bool:
    real = db.obj if isinstance(db, DatabaseProxy) else db
    return isinstance(real, PostgresqlDatabase)


def for_update(query: Any) -> Any:
    """``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write transaction (``BEGIN IMMEDIATE``)
    already holds the only write lock, and peewee refuses ``FOR UPDATE`` there."""
    return query.for_update() if is_postgres(query.model._meta.database) else query


def ensure_schema(module: str, db: Database) -> None:
    """PostgreSQL only: create the module's schema (``search_path`` points at it)."""
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{module}"')


class Databases:
    """The set of module databases of one running application (or script, or test)."""

    def __init__(self) -> None:
        self._by_module: dict[str, Database] = {}
        self._targets: dict[str, DatabaseTarget] = {}
        self._lock = threading.Lock()

    def bind(self, module: str, proxy: DatabaseProxy, settings: Settings) -> Database:
        target = DatabaseTarget.parse(settings.database_url_for(module))
        db = open_database(module, target, settings)
        proxy.initialize(db)
        with self._lock:
            self._by_module[module] = db
            self._targets[module] = target
        return db

    def __iter__(self) -> Iterator[tuple[str, Database]]:
        return iter(list(self._by_module.items()))

    def get(self, module: str) -> Database:
        return self._by_module[module]

    def target(self, module: str) -> DatabaseTarget:
        return self._targets[module]

    def release_thread_connections(self) -> None:
        """Return this thread's connections to their pools (called after every use case)."""
        for db in self._by_module.values():
            if not db.is_closed():
                db.close()

    def close_all(self) -> None:
        """Close every pooled connection (shutdown, end of a test)."""
        for db in self._by_module.values():
            if not db.is_closed():
                db.close()
            close_all = getattr(db, "close_all", None)
            if close_all is not None:
                close_all()

    def ping(self, module: str) -> None:
        """Run ``SELECT 1`` on a module's database; raises if it cannot."""
        db = self._by_module[module]
        with db.connection_context():
            db.execute_sql("SELECT 1")
