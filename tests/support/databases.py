"""The database layouts the tests run against, and fresh PostgreSQL databases.

- ``sqlite``: one SQLite file for all modules (the embedded default);
- ``sqlite-per-module``: one file per module — proof that no module reads another's tables;
- ``postgres``: a fresh PostgreSQL database per test (a copy of a migrated template, see
  ``tests/support/templates.py``), a schema per module;
- ``postgres-rabbitmq`` (tests marked ``events``): ``postgres`` with events over RabbitMQ, queues
  named by a namespace unique to the test;
- ``postgres-replica`` (the integration suite): the test's database on a private primary with a
  streaming replica (``tests/support/pg_cluster.py``, one pair per test process, started on first use),
  and ``database_replica_url`` set, so every use case marked ``replica_reads`` reads from the replica.
  The pair replicates synchronously up to replay, so a committed write is on the replica when the commit
  returns (why: ``start_replicated_cluster``).

The first three run every test that takes ``settings``; ``tests/conftest.py`` adds the other two.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable

import psycopg2
from psycopg2 import sql

BACKENDS = ("sqlite", "sqlite-per-module", "postgres")
#: PostgreSQL with integration events over RabbitMQ (the integration and e2e suites add this layout).
BROKER_LAYOUT = "postgres-rabbitmq"
#: PostgreSQL with a streaming replica serving the marked reads (the integration suite adds this layout).
REPLICA_LAYOUT = "postgres-replica"
ADMIN_URL = os.environ.get("ECOMMERCE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def on_postgres(layout: str) -> bool:
    """Whether a layout keeps its tables in PostgreSQL (``postgres``, ``postgres-rabbitmq``, ``postgres-replica``)."""
    return layout.startswith("postgres")


def postgres_required() -> bool:
    return os.environ.get("ECOMMERCE_REQUIRE_POSTGRES", "") in ("1", "true", "yes")


def postgres_error() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        psycopg2.connect(ADMIN_URL, connect_timeout=3).close()
    except psycopg2.Error as exc:
        return f"PostgreSQL not reachable at {ADMIN_URL}: {exc}".strip()
    return None


def _admin(admin_url: str = ADMIN_URL) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    return conn


def url_of(name: str, admin_url: str = ADMIN_URL) -> str:
    """The URL of database ``name`` on the server of ``admin_url`` (the test server by default)."""
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def name_of(url: str) -> str:
    return url.rpartition("/")[2]


def admin_url_of(url: str) -> str:
    """The ``postgres`` database on the same server as ``url``."""
    return url_of("postgres", url)


def create_database(template: str | None = None, prefix: str = "ecommerce_test_", admin_url: str = ADMIN_URL) -> str:
    """A brand-new database on the server of ``admin_url``, empty or a copy of ``template`` (which must
    have no open connection); returns its URL."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    # Not ``with conn``: psycopg2 2.9 opens a transaction there, and CREATE DATABASE refuses one.
    conn = _admin(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()
    return url_of(name, admin_url)


def drop_database(url: str) -> None:
    """Drop a database, ending any connection a test left open to it (a server thread's pool)."""
    conn = _admin(admin_url_of(url))
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name_of(url))))
    finally:
        conn.close()


def reset_schemas(url: str, modules: Iterable[str]) -> None:
    """Drop every module schema so the next test migrates from nothing."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for module in modules:
                cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(module)))
    finally:
        conn.close()
