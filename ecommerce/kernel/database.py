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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import peewee
import psycopg2
from peewee import Database, DatabaseProxy, Model, PostgresqlDatabase
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from ecommerce.kernel import replicas
from ecommerce.kernel.replicas import Replica
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

    #: This module's read replica, when one is configured (``ecommerce/kernel/replicas.py``).
    replica: Replica | None = None

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        """Plain reads of a use case marked ``replica_reads`` go to the replica when it is healthy; a
        replica that fails mid-query is marked down and the read runs here instead."""
        replica = self.replica
        if (replica is not None and replicas.wants_replica() and replicas.is_read(sql)
                and not self.in_transaction() and replica.usable()):
            try:
                cursor = replica.database.execute_sql(sql, params)
            except (peewee.OperationalError, peewee.InterfaceError, psycopg2.Error) as exc:
                replica.mark_down(exc)
            else:
                replica.counted("replica")
                return cursor
        replicas.before_primary_statement(sql)
        if replica is not None and replicas.in_replica_reads():
            replica.counted("primary")
        return super().execute_sql(sql, params)


class PooledSqlite(PooledSqliteDatabase):
    """peewee's SQLite pool; a write inside a ``replica_reads`` use case fails here too, so a wrongly
    marked use case fails on the embedded default's tests, not only on a deployment with a replica."""

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        replicas.before_primary_statement(sql)
        return super().execute_sql(sql, params)


def open_replica(module: str, target: DatabaseTarget, settings: Settings,
                 on_read: Callable[[str, str], None] | None = None) -> Replica:
    """A module's read-only replica: its own small pool, every transaction read-only."""
    if target.backend != "postgresql":
        raise ValueError(f"{module}: a read replica must be PostgreSQL, not {target.url!r}")
    options = f"-c search_path={module} -c default_transaction_read_only=on"
    database = PooledPostgres(target.dbname, max_connections=settings.db_pool_size, timeout=settings.db_pool_timeout,
                              stale_timeout=300, options=options, application_name=f"ecommerce-{module}-replica",
                              connect_timeout=replicas.CONNECT_TIMEOUT, **target.pg_params())
    dsn = {"dbname": target.dbname, "options": options, **target.pg_params()}
    return Replica(module, database, dsn, settings.replica_max_lag, on_read)


def open_database(module: str, target: DatabaseTarget, settings: Settings) -> Database:
    """Create (but do not connect) the database a module will use."""
    if target.backend == "sqlite":
        assert target.path is not None
        Path(target.path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSqlite(
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


def create_tables(db: Database, models: Sequence[type[Model]], safe: bool = True) -> None:
    """Create the tables (and indexes) of a migration's frozen models in ``db``, in order.

    Like a module's live models, the frozen copies in a migration declare no database (no ``Meta.database``,
    no shared base class): they are bound to ``db`` here, so a migration states only its own tables."""
    db.bind(models)
    db.create_tables(models, safe=safe)


def ensure_schema(module: str, db: Database) -> None:
    """PostgreSQL only: create the module's schema (``search_path`` points at it)."""
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{module}"')


class Databases:
    """The set of module databases of one running application (or script, or test)."""

    def __init__(self, on_replica_read: Callable[[str, str], None] | None = None) -> None:
        self._by_module: dict[str, Database] = {}
        self._targets: dict[str, DatabaseTarget] = {}
        self._replicas: dict[str, Replica] = {}
        self._on_replica_read = on_replica_read
        self._lock = threading.Lock()

    def bind(self, module: str, proxy: DatabaseProxy, settings: Settings) -> Database:
        target = DatabaseTarget.parse(settings.database_url_for(module))
        db = open_database(module, target, settings)
        replica_url = settings.replica_url_for(module)
        if replica_url is not None and isinstance(db, PooledPostgres):
            db.replica = open_replica(module, DatabaseTarget.parse(replica_url), settings, self._on_replica_read)
        proxy.initialize(db)
        with self._lock:
            self._by_module[module] = db
            self._targets[module] = target
            if isinstance(db, PooledPostgres) and db.replica is not None:
                self._replicas[module] = db.replica
        return db

    @property
    def replicas(self) -> dict[str, Replica]:
        """The modules that read from a replica, and theirs."""
        return dict(self._replicas)

    def __iter__(self) -> Iterator[tuple[str, Database]]:
        return iter(list(self._by_module.items()))

    def get(self, module: str) -> Database:
        return self._by_module[module]

    def target(self, module: str) -> DatabaseTarget:
        return self._targets[module]

    def release_thread_connections(self) -> None:
        """Return this thread's connections to their pools (called after every use case)."""
        for db in self._all():
            if not db.is_closed():
                db.close()

    def _all(self) -> list[Database]:
        return [*self._by_module.values(), *(replica.database for replica in self._replicas.values())]

    def close_all(self) -> None:
        """Close every pooled connection (shutdown, end of a test)."""
        for db in self._all():
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
