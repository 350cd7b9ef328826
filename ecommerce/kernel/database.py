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

import datetime
import itertools
import logging
import re
import threading
import time
import weakref
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

log = logging.getLogger("ecommerce.database")


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
        """Connection parameters for psycopg2. ``gssencmode=disable``: libpq's default ("prefer") starts
        Kerberos on every new connection to offer GSSAPI encryption, which the app never configures; and
        the libraries the psycopg2-binary wheel bundles have crashed inside that start (a segfault in
        ``psycopg2.connect`` from a thread of ``ecommerce serve``, seen in a crash test; psycopg/psycopg#1213)."""
        params = {"user": self.user, "password": self.password, "host": self.host, "port": self.port}
        return {**{key: value for key, value in params.items() if value is not None}, "gssencmode": "disable"}


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
        self._prepared_lock = threading.Lock()
        self._prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()

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
        return self.execute_compiled(sql, params, None)

    def execute_compiled(self, sql: str, params: Any, prepared: Prepared | None) -> Any:
        """Plain reads of a use case marked ``replica_reads`` go to the replica when it is healthy; a
        replica that fails mid-query is marked down and the read runs here instead. ``prepared``: the
        statement's server-side form (a compiled ``Statement``'s), run with ``EXECUTE`` on the primary."""
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
        if prepared is not None:
            run = prepared.run(self, params)
            if run is not None:
                return self._send(run, params)
        return self._send(sql, params)

    # BEGIN goes with the transaction's first statement, in the same round trip ("BEGIN; <statement>"): one
    # round trip fewer per transaction (five per checkout), for the app and for PostgreSQL (ADR 0015). A
    # transaction that sent nothing sends no BEGIN and no COMMIT. Anything that takes a cursor of its own
    # (COPY, ``kernel.bulk``) gets its BEGIN first, alone, as before.
    def begin(self, isolation_level: Any = None) -> None:
        if isolation_level is None and not self._isolation_level:
            if self.is_closed():  # connected now, as BEGIN's cursor did: connecting resets peewee's stack
                self.connect()
            self._state.begin_pending = True
            return
        super().begin(isolation_level)

    def _owes_begin(self) -> bool:
        """Whether this thread's transaction has not sent its BEGIN yet (and from now on it has)."""
        owed = bool(getattr(self._state, "begin_pending", False))
        self._state.begin_pending = False
        return owed

    def _take_begin(self) -> bool:
        """:meth:`_owes_begin`, for a statement about to be sent (a flag outside a transaction is stale)."""
        return self._owes_begin() and self.in_transaction()

    def _send(self, sql: str, params: Any) -> Any:
        return super().execute_sql(f"BEGIN; {sql}" if self._take_begin() else sql, params)

    def cursor(self, named_cursor: Any = None) -> Any:
        if self._take_begin():
            super().cursor().execute("BEGIN")
        return super().cursor(named_cursor)

    def commit(self) -> None:
        if not self._owes_begin():  # else nothing was sent: nothing to commit
            super().commit()

    def rollback(self) -> None:
        if not self._owes_begin():
            super().rollback()

    def prepared_here(self) -> set[str]:
        """The names prepared on this thread's connection (a session's prepared statements are its own)."""
        conn = self.connection()
        with self._prepared_lock:
            found = self._prepared.get(conn)
            if found is None:
                found = self._prepared[conn] = set()
        return found

    def prepare(self, name: str, types: tuple[str, ...], text: str) -> bool:
        """``PREPARE`` inside the open transaction, behind a savepoint: a statement PostgreSQL cannot prepare
        (a parameter's type it cannot infer) is undone alone, and then runs as text (False)."""
        declared = f" ({', '.join(types)})" if types else ""
        begin = "BEGIN; " if self._take_begin() else ""
        cursor = self.cursor()
        try:
            cursor.execute(f"{begin}SAVEPOINT ecommerce_prepare; PREPARE {name}{declared} AS {text}; "
                           f"RELEASE SAVEPOINT ecommerce_prepare")
        except psycopg2.Error as exc:
            cursor.execute("ROLLBACK TO SAVEPOINT ecommerce_prepare; RELEASE SAVEPOINT ecommerce_prepare")
            log.warning("statement not prepared, run as text", extra={"error": repr(exc), "sql": text[:200]})
            return False
        return True


#: A compiled statement's parameters, typed for ``PREPARE`` as psycopg2 would send them as literals: an
#: ``int`` as ``bigint`` (compared with an ``integer`` column it still uses its index), anything else left to
#: PostgreSQL to infer from where it stands (text, NULL, arrays).
_BIGINT = 2 ** 63


def _pg_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint" if -_BIGINT <= value < _BIGINT else None  # beyond: a numeric literal, as text
    if isinstance(value, float):
        return "double precision"
    if isinstance(value, datetime.datetime):
        return "timestamp" if value.tzinfo is None else "timestamptz"
    if isinstance(value, datetime.date):
        return "date"
    return "unknown"


class Prepared:
    """A compiled statement (``kernel.statements.Statement``) as a PostgreSQL prepared statement: parsed and
    planned once per session, then ``EXECUTE name (params)``. That halves the server's CPU for the small
    statements of a checkout (about 65 to 30 us each, measured on this machine); ADR 0015.

    Prepared on a connection the first time it runs there *inside a transaction* (behind a savepoint: no
    commit of its own, and a failure is undone alone); outside one, until then, it runs as text, since a
    ``PREPARE`` on its own would be a transaction PostgreSQL counts. One prepared statement per combination of
    parameter types (``_pg_type``), so a later call with other types never meets a plan typed for the first.
    """

    _names = itertools.count(1)

    def __init__(self, sql: str) -> None:
        numbered = iter(range(1, sql.count("%s") + 1))
        text = re.sub("%s", lambda _m: f"${next(numbered)}", sql)
        #: None: not prepared (a literal % would be read differently by psycopg2 once the text has no %s)
        self.text = None if "%" in text else text
        self._names_by_types: dict[tuple[str, ...], str] = {}
        self._refused: set[tuple[str, ...]] = set()

    def run(self, db: PooledPostgres, params: Any) -> str | None:
        """The ``EXECUTE`` to send instead of the text, or None to send the text."""
        if self.text is None:
            return None
        values = list(params or ())
        found = [_pg_type(value) for value in values]
        types = tuple(kind for kind in found if kind is not None)
        if len(types) < len(found) or types in self._refused:
            return None
        name = self._names_by_types.get(types)
        if name is None:
            name = self._names_by_types.setdefault(types, f"ecommerce_{next(self._names)}")
        here = db.prepared_here()
        if name not in here:
            if not db.in_transaction():
                return None
            if not db.prepare(name, types, self.text):
                self._refused.add(types)
                return None
            here.add(name)
        return f"EXECUTE {name} ({', '.join(['%s'] * len(values))})" if values else f"EXECUTE {name}"


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
