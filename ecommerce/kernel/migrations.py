"""Migrations per module, on top of peewee 4's ``playhouse.migrations`` runner.

Each module keeps numbered scripts (``0001_initial.py`` defining ``up(migrator, db)``) in its
``migrations/`` folder and a history table of its own (``<module>_migrations``) in its own database, so
modules migrate independently and a carved-out module takes its history with it. The kernel's own
tables (outbox, inbox) are versioned steps in ``kernel/events/table_steps.py``, recorded in
``<module>_kernel_migrations`` the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from peewee import Database, DatabaseError, PostgresqlDatabase
from playhouse.migrations import Migration, Runner

from ecommerce.kernel.database import ensure_schema
from ecommerce.kernel.kernel_tables import KERNEL_STEPS


@dataclass(frozen=True)
class MigrationState:
    """One line of ``ecommerce migrate --status``."""

    module: str
    set: str  # "kernel" or "module"
    name: str
    applied: datetime.datetime | None


def _kernel_runner(module: str, db: Database) -> Runner:
    # Only its history table is used: kernel steps are functions, not files.
    return Runner(db, str(Path(__file__).parent / "events"), table_name=f"{module}_kernel_migrations")


def _module_runner(module: str, db: Database, directory: Path) -> Runner:
    return Runner(db, str(directory), table_name=f"{module}_migrations")


def _apply_kernel_steps(module: str, db: Database) -> list[str]:
    runner = _kernel_runner(module, db)
    done = runner.applied()
    runner.History.create_table()
    applied = []
    for name, step in KERNEL_STEPS:
        if name not in done:
            with db.atomic():
                step(db, module)
                runner.History.create(name=name)
            applied.append(name)
    return applied


def _up_to_date(module: str, db: Database, directory: Path | None) -> bool:
    """Whether every kernel step and every migration file is recorded as applied: one read, no DDL.

    Why first: every process that starts (each worker of ``ecommerce serve``, each command, each test)
    migrates, and the database is nearly always up to date already. The full path issues ``CREATE ... IF
    NOT EXISTS`` for the schema and both history tables; on PostgreSQL each takes catalog locks and costs
    a round trip, about forty statements per start across the modules for nothing. The check reads both
    history tables in one statement, without peewee's runner (which asks the catalog whether each table
    exists, then reads it, through a model class it declares anew each time): a missing table is an error,
    and means "not migrated yet"."""
    sql = f'SELECT 0, name FROM "{module}_kernel_migrations"'
    if directory is not None:
        sql += f' UNION ALL SELECT 1, name FROM "{module}_migrations"'
    try:
        rows = db.execute_sql(sql).fetchall()
    except DatabaseError:  # a history table does not exist yet (or the read failed: the full path will say)
        return False
    recorded: tuple[set[str], set[str]] = (set(), set())
    for kind, name in rows:
        recorded[kind].add(name)
    if not {name for name, _ in KERNEL_STEPS} <= recorded[0]:
        return False
    return directory is None or {m.name for m in Migration.load_directory(str(directory))} <= recorded[1]


def migrate(module: str, db: Database, directory: Path | None) -> list[str]:
    """Apply every pending migration of a module (kernel tables first); returns what was applied.

    Idempotent: a second call applies nothing. Each script runs in its own transaction.
    """
    with db.connection_context():
        if _up_to_date(module, db, directory):
            return []
        ensure_schema(module, db)
        applied = [f"kernel:{name}" for name in _apply_kernel_steps(module, db)]
        if directory is not None:
            applied.extend(f"module:{name}" for name in _module_runner(module, db, directory).up())
        return applied


def status(module: str, db: Database, directory: Path | None) -> list[MigrationState]:
    """Every known migration of a module and when it was applied (``None`` = pending)."""
    with db.connection_context():
        kernel_done = _kernel_runner(module, db).applied()
        states = [MigrationState(module, "kernel", name, kernel_done.get(name)) for name, _ in KERNEL_STEPS]
        if directory is not None:
            rows = _module_runner(module, db, directory).status()
            states.extend(MigrationState(module, "module", row.name, row.applied) for row in rows)
        return states


def retype_on_postgres(db: Database, columns: Mapping[str, Sequence[str]], kind: str) -> None:
    """``ALTER TABLE t ALTER COLUMN c TYPE <kind>`` for every table's ``columns``, one statement per table,
    on PostgreSQL; nothing on SQLite, whose INTEGER already holds 64 bits. The step of the migrations that
    widen money and prices to BIGINT (``up``) and narrow them back (``down``); applied migrations call it, so
    the statements it writes must never change."""
    if isinstance(db, PostgresqlDatabase):
        for table, names in columns.items():
            changes = ", ".join(f'ALTER COLUMN "{column}" TYPE {kind}' for column in names)
            db.execute_sql(f'ALTER TABLE "{table}" {changes}')
