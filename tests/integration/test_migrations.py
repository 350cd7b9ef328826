"""Migrations: recorded, idempotent, per module, and landing where each layout says."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import psycopg2
import pytest
from playhouse.migrations import Runner

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.database import DatabaseTarget
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog import products, rules
from tests.support import databases
from tests.support.catalog import product


@pytest.mark.unmigrated
def test_migrate_applies_everything_once(settings: Settings) -> None:
    kernel = Kernel(settings)
    try:
        pending = kernel.pending_migrations()
        assert {(s.module, s.set, s.name) for s in pending} >= {
            ("users", "kernel", "0001_event_tables"),
            ("users", "module", "0001_initial"),
        }
        first = kernel.migrate()
        assert "module:0001_initial" in first["users"]
        assert kernel.migrate() == {name: [] for name in first}  # idempotent
        assert kernel.pending_migrations() == []
        assert all(state.applied is not None for state in kernel.migration_status())
    finally:
        kernel.close()


def test_an_up_to_date_database_is_migrated_with_reads_only(kernel: Kernel, caplog: pytest.LogCaptureFixture) -> None:
    """Every process that starts migrates; on an up-to-date database that must cost a few reads per module,
    not a ``CREATE ... IF NOT EXISTS`` for the schema and each history table (catalog locks on PostgreSQL)."""
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert kernel.migrate() == {name: [] for name in kernel.modules.names()}
    statements = [str(record.msg[0]) if isinstance(record.msg, tuple) else record.getMessage()
                  for record in caplog.records if record.name == "peewee"]
    assert statements, "peewee logged no statement: the check would prove nothing"
    assert [s for s in statements if not s.lstrip().upper().startswith("SELECT")] == []
    assert len(statements) == len(kernel.modules.names())  # one read of both history tables per module


def test_a_migration_added_later_is_seen_and_applied(kernel: Kernel, tmp_path: Path) -> None:
    """The up-to-date check compares the folder's files with the history: a new file is pending at once."""
    import shutil

    from ecommerce.kernel import migrations

    db = kernel.modules["catalog"].database
    folder = tmp_path / "migrations"
    shutil.copytree(Path(products.__file__).parent / "migrations", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    with db.connection_context():
        assert migrations._up_to_date("catalog", db, folder)
        (folder / "0099_later.py").write_text(
            "def up(migrator, db):\n    db.execute_sql('CREATE TABLE later_table (id INTEGER)')\n")
        assert not migrations._up_to_date("catalog", db, folder)
    assert migrations.migrate("catalog", db, folder) == ["module:0099_later"]
    with db.connection_context():
        assert migrations._up_to_date("catalog", db, folder)
        db.execute_sql("DROP TABLE later_table")
        db.execute_sql(f'DELETE FROM "catalog_migrations" WHERE name = {db.param}', ("0099_later",))


def test_tables_live_where_the_layout_says(kernel: Kernel, backend: str, tmp_path: Path) -> None:
    expected = {"users", "auth_session", "blocked_auth", "users_outbox", "users_inbox", "users_migrations"}
    target = kernel.databases.target("users")
    if databases.on_postgres(backend):
        conn = psycopg2.connect(kernel.settings.database_url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'users'")
                in_schema = {row[0] for row in cur.fetchall()}
                cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
                (in_public,) = cur.fetchone()
        finally:
            conn.close()
        assert expected <= in_schema
        assert in_public == 0  # nothing leaked outside the module schemas
    else:
        db = kernel.databases.get("users")
        assert expected <= set(db.get_tables())
        assert isinstance(target, DatabaseTarget) and target.path is not None
        if backend == "sqlite-per-module":
            assert Path(target.path).name == "users.db"
        else:
            assert Path(target.path) == kernel.settings.data_dir / "ecommerce.db"


def test_sqlite_pragmas(kernel: Kernel, backend: str) -> None:
    if databases.on_postgres(backend):
        return
    db = kernel.databases.get("users")
    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] > 0


#: Issue 14: the money columns that must hold any amount the validation allows (kernel/limits.py).
MONEY_MIGRATIONS = {"catalog": "0003_bigint_price", "orders": "0003_bigint_money", "payments": "0004_bigint_money",
                    "search": "0003_bigint_price"}
MONEY_COLUMNS = {
    ("catalog", "product", "price"), ("search", "search_documents", "price"),
    ("orders", "orders", "subtotal"), ("orders", "orders", "total"), ("orders", "order_items", "unit_price"),
    ("orders", "order_items", "line_total"), ("payments", "payment", "amount"),
    ("payments", "payment", "refunded_amount"), ("payments", "refunds", "amount"),
    ("payments", "gateway_simulator_charges", "amount"), ("payments", "gateway_simulator_charges", "refunded"),
    ("payments", "gateway_simulator_refunds", "amount"),
}


def _column_types(kernel: Kernel) -> dict[tuple[str, str, str], str]:
    conn = psycopg2.connect(kernel.settings.database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema IN ('catalog', 'search', 'orders', 'payments')")
            return {(schema, table, column): kind for schema, table, column, kind in cur.fetchall()}
    finally:
        conn.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_money_columns_become_bigint_on_an_existing_database(kernel: Kernel) -> None:
    modules = {module.name: module for module in kernel.registry}
    for name, migration in MONEY_MIGRATIONS.items():  # back to the schema a database had before issue 14
        db = kernel.databases.get(name)
        with db.connection_context():
            Runner(db, str(modules[name].migrations), table_name=f"{name}_migrations").down(target=migration)
    assert {_column_types(kernel)[column] for column in MONEY_COLUMNS} == {"integer"}
    kept = product(kernel, price=1234)

    applied = kernel.migrate()

    assert all(f"module:{migration}" in applied[name] for name, migration in MONEY_MIGRATIONS.items())
    assert {_column_types(kernel)[column] for column in MONEY_COLUMNS} == {"bigint"}
    assert product(kernel, price=rules.MAX_PRICE)["price"] == rules.MAX_PRICE > 2**31
    assert kernel.runner.call(products.detail, kept["id"])["price"] == 1234


def test_existing_carts_get_the_time_of_their_newest_line(kernel: Kernel) -> None:
    """``cart.updated_at`` was only ever the creation time before ``0004_cart_idle_purge``: the migration
    moves it to the newest line's ``added_at`` where that is later, so the idle-cart purge does not delete a
    cart made long ago but filled last week."""
    from ecommerce.modules.orders import cart
    from ecommerce.modules.orders.models import Cart, CartItem
    from tests.support.catalog import stocked
    from tests.support.orders import shopper

    orders = next(module for module in kernel.registry if module.name == "orders")
    db = kernel.databases.get("orders")
    with db.connection_context():
        Runner(db, str(orders.migrations), table_name="orders_migrations").down(target="0004_cart_idle_purge")
    product_id, _ = stocked(kernel, 10)
    other_id, _ = stocked(kernel, 10)
    filled_late, untouched, emptied = (shopper(kernel)[0] for _ in range(3))
    for user_id in (filled_late, untouched, emptied):
        kernel.runner.call(cart.add, user_id, product_id, 1)
    kernel.runner.call(cart.add, filled_late, other_id, 1)
    kernel.runner.call(cart.clear, emptied)
    made, first_line, last_line = (datetime.datetime(2026, 1, day) for day in (1, 5, 9))

    def as_before_0004() -> None:
        Cart.update(updated_at=made).execute()
        CartItem.update(added_at=first_line).execute()
        CartItem.update(added_at=last_line).where(CartItem.product_id == other_id).execute()
        Cart.update(updated_at=last_line + datetime.timedelta(days=1)).where(Cart.user_id == untouched).execute()

    kernel.runner.call(as_before_0004)

    assert "module:0004_cart_idle_purge" in kernel.migrate()["orders"]

    def changed(user_id: int) -> datetime.datetime:
        return kernel.runner.call(lambda: Cart.get(Cart.user_id == user_id).updated_at)

    assert changed(filled_late) == last_line  # its newest line
    assert changed(untouched) == last_line + datetime.timedelta(days=1)  # later than its lines: kept
    assert changed(emptied) == made  # no line to go by
