"""The three database layouts every integration test runs against, and fresh PostgreSQL databases.

- ``sqlite``: one SQLite file for all modules (the embedded default);
- ``sqlite-per-module``: one file per module — proof that no module reads another's tables;
- ``postgres``: a fresh PostgreSQL database per test (a copy of a migrated template, see
  ``tests/support/templates.py``), a schema per module;
- ``postgres-rabbitmq`` (integration and e2e suites): ``postgres`` with events over RabbitMQ, queues
  named by a namespace unique to the test.
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
ADMIN_URL = os.environ.get("ECOMMERCE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def on_postgres(layout: str) -> bool:
    """Whether a layout keeps its tables in PostgreSQL (``postgres`` and ``postgres-rabbitmq``)."""
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


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    return conn


def url_of(name: str) -> str:
    """The URL of database ``name`` on the test server."""
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def name_of(url: str) -> str:
    return url.rpartition("/")[2]


def create_database(template: str | None = None, prefix: str = "ecommerce_test_") -> str:
    """A brand-new database, empty or a copy of ``template`` (which must have no open connection);
    returns its URL."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    conn = _admin()  # not ``with conn``: psycopg2 2.9 opens a transaction there, and CREATE DATABASE refuses one
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()
    return url_of(name)


def drop_database(url: str) -> None:
    """Drop a database, ending any connection a test left open to it (a server thread's pool)."""
    conn = _admin()
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
