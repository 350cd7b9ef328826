"""Each module's real schema as its migrations build it: every module migrated into its own temporary
SQLite file, then read back from ``sqlite_master`` (indexes included, partial ones with their WHERE)."""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.settings import Settings


@dataclass(frozen=True)
class Index:
    table: str
    name: str
    sql: str

    @property
    def unique(self) -> bool:
        return "UNIQUE" in self.sql.upper().split(" ON ")[0]


@cache
def migrated() -> dict[str, dict[str, list[Index]]]:
    """module -> every table in its database -> the table's explicit indexes (as created on SQLite)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        kernel = Kernel(Settings(env="test", data_dir=data, secret_key="docs-" + "x" * 40, run_relay=False,
                                 log_level="ERROR", database_url=f"sqlite:///{data}/{{module}}.db"))
        try:
            kernel.migrate()
            names = kernel.modules.names()
        finally:
            kernel.close()
        found: dict[str, dict[str, list[Index]]] = {}
        for name in names:
            with sqlite3.connect(data / f"{name}.db") as db:
                rows = db.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' "
                                  "AND sql IS NOT NULL ORDER BY tbl_name, name").fetchall()
                names_of_tables = [row[0] for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name")]
            tables: dict[str, list[Index]] = {table: [] for table in names_of_tables}
            for table, index, sql in rows:
                tables.setdefault(table, []).append(Index(table, index, " ".join(sql.split())))
            found[name] = tables
        return found
