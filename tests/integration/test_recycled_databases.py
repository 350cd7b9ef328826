"""The suite's recycled PostgreSQL copies (``tests/support/recycling.py``): a copy handed to a second test
must look exactly like a fresh copy of the template, and a copy whose schema a test changed is never
handed out again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import test_settings as settings_for
from tests.support import databases
from tests.support.recycling import SCHEMA_FINGERPRINT, TemplateState, reset
from tests.support.templates import Templates

pytestmark = pytest.mark.postgres


@pytest.fixture
def templates(tmp_path: Path, postgres_url: str) -> Iterator[Templates]:
    made = Templates(tmp_path, settings_for)
    yield made
    made.close()


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchall()
    finally:
        conn.close()


def _execute(url: str, statement: str) -> None:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
        conn.commit()
    finally:
        conn.close()


def test_an_emptied_copy_looks_like_a_fresh_one(templates: Templates) -> None:
    template = templates.postgres_template()
    state = TemplateState.read(databases.url_of(template))
    used, fresh = templates.postgres_copy(), templates.postgres_copy()
    try:
        # a test's writes: rows in several modules (foreign keys between them), sequences moved on,
        # and a session left open, as a server thread's pool would leave it
        _execute(used, "INSERT INTO catalog.brands (name, created_at) VALUES ('Acme', now());"
                       "INSERT INTO users.users (email, hashed_password, status, role, created_at, updated_at) "
                       "VALUES ('a@example.com', 'x', 'active', 'customer', now(), now())")
        left_open = psycopg2.connect(used)
        assert reset(used, databases.ADMIN_URL, state)
        assert left_open.closed or _session_ended(left_open)
        tables = "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " \
                 "WHERE n.nspname IN ('catalog', 'users', 'orders') AND c.relkind = 'r' ORDER BY 1"
        for (table,) in _rows(fresh, tables):
            assert _rows(used, f"SELECT * FROM {table} ORDER BY 1") == _rows(fresh, f"SELECT * FROM {table} ORDER BY 1")
        sequences = "SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2"
        assert _rows(used, sequences) == _rows(fresh, sequences)
        assert _rows(used, SCHEMA_FINGERPRINT) == _rows(fresh, SCHEMA_FINGERPRINT)
        # the next insert gets the id a fresh copy would give
        new_id = "INSERT INTO catalog.brands (name, created_at) VALUES ('Next', now()) RETURNING id"
        assert _rows(used, new_id) == _rows(fresh, new_id) == [(1,)]
    finally:
        databases.drop_database(used)
        databases.drop_database(fresh)


def _session_ended(conn: psycopg2.extensions.connection) -> bool:
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    except psycopg2.Error:
        return True
    finally:
        conn.close()
    return False


@pytest.mark.parametrize("change", [
    "ALTER TABLE catalog.brands ADD COLUMN motto TEXT",
    "CREATE TABLE catalog.extra (id INT)",
    "CREATE TABLE public.extra (id INT)",
    "CREATE SCHEMA audit; ALTER TABLE catalog.brands ADD COLUMN motto TEXT",  # a schema of its own and more
    "CREATE INDEX brands_created ON catalog.brands (created_at)",
    "DELETE FROM catalog.catalog_migrations WHERE id = (SELECT max(id) FROM catalog.catalog_migrations)",
])
def test_a_copy_whose_schema_changed_is_refused(templates: Templates, change: str) -> None:
    state = TemplateState.read(databases.url_of(templates.postgres_template()))
    used = templates.postgres_copy()
    try:
        _execute(used, change)
        assert not reset(used, databases.ADMIN_URL, state)
    finally:
        databases.drop_database(used)


def test_a_copy_with_a_schema_of_its_own_is_recycled_without_it(templates: Templates) -> None:
    """A kernel with a test-only module (``paysim``, the whole orders suite) migrates it into a schema the
    template lacks: that schema is dropped, and the copy is then exactly what a fresh one is."""
    state = TemplateState.read(databases.url_of(templates.postgres_template()))
    used, fresh = templates.postgres_copy(), templates.postgres_copy()
    try:
        _execute(used, "CREATE SCHEMA paysim; CREATE TABLE paysim.paysim_outbox (id SERIAL PRIMARY KEY, body TEXT);"
                       "INSERT INTO paysim.paysim_outbox (body) VALUES ('{}');"
                       "INSERT INTO catalog.brands (name, created_at) VALUES ('Acme', now())")
        assert reset(used, databases.ADMIN_URL, state)
        assert _rows(used, "SELECT count(*) FROM pg_namespace WHERE nspname = 'paysim'") == [(0,)]
        assert _rows(used, SCHEMA_FINGERPRINT) == _rows(fresh, SCHEMA_FINGERPRINT)
        assert _rows(used, "SELECT count(*) FROM catalog.brands") == [(0,)]
    finally:
        databases.drop_database(used)
        databases.drop_database(fresh)


def test_released_copies_come_back_only_when_clean(templates: Templates) -> None:
    first = templates.postgres_copy()
    templates.release(first)
    templates._to_drop.join()  # the background reset is done
    assert templates.postgres_copy() == first and templates.recycled == 1
    _execute(first, "ALTER TABLE catalog.brands ADD COLUMN motto TEXT")
    templates.release(first)
    templates._to_drop.join()
    second = templates.postgres_copy()
    assert second != first  # the altered copy was dropped, a new copy made
    assert _rows(databases.ADMIN_URL, "SELECT count(*) FROM pg_database WHERE datname = "
                                      f"'{databases.name_of(first)}'") == [(0,)]
    databases.drop_database(second)
