"""Migrated template databases: migrate once per layout per test process, copy per test.

Migrating every module takes 0.5 s on SQLite and about 3 s on PostgreSQL; copying a migrated database
takes a few milliseconds (a file copy) or about a tenth of a second (``CREATE DATABASE ... TEMPLATE``).
Each test still gets a database of its own, so nothing one test writes is seen by another.

Templates are built on first use by the process that needs them (each pytest-xdist worker has its own,
so no two processes ever copy or write the same template) and removed when the process ends. The
``postgres-replica`` layout has its own template on its private primary (``CREATE DATABASE ... TEMPLATE``
works within one server; the replica receives every copy by physical replication).
"""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg2

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.settings import Settings
from tests.support import databases


class Templates:
    """One migrated database per layout family, made lazily: SQLite files under ``root``, one PostgreSQL
    database per server (the test server's is shared by ``postgres`` and ``postgres-rabbitmq``: the broker
    changes no table; the private primary of ``postgres-replica`` has its own)."""

    def __init__(self, root: Path, settings_for: Callable[..., Settings]) -> None:
        self.root = root
        self._settings_for = settings_for
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, str] = {}  # admin URL of a server -> its template's name
        self._to_drop: queue.Queue[str | None] = queue.Queue()
        self._dropper: threading.Thread | None = None
        self._drop_errors: list[str] = []

    def _migrate(self, settings: Settings) -> None:
        kernel = Kernel(settings)
        try:
            kernel.migrate()
        finally:
            kernel.close()  # every connection closed: a PostgreSQL template must have none while copied

    def sqlite_files(self, layout: str) -> Path:
        """A directory holding the migrated SQLite file(s) of ``layout`` (the layout's own file names)."""
        if layout not in self._sqlite:
            directory = self.root / layout
            file = "ecommerce.db" if layout == "sqlite" else "{module}.db"  # the names the layout uses
            directory.mkdir(parents=True)
            self._migrate(self._settings_for(self.root / f"{layout}-data", database_url=f"sqlite:///{directory}/{file}"))
            self._sqlite[layout] = directory
        return self._sqlite[layout]

    def copy_sqlite(self, layout: str, destination: Path) -> None:
        """Copy the migrated file(s) into ``destination`` (created); WAL files were folded in at close."""
        destination.mkdir(parents=True, exist_ok=True)
        for source in self.sqlite_files(layout).iterdir():
            shutil.copyfile(source, destination / source.name)

    def postgres_template(self, admin_url: str = databases.ADMIN_URL) -> str:
        """The name of the migrated PostgreSQL template database on the server of ``admin_url``."""
        if admin_url not in self._postgres:
            url = databases.create_database(prefix="ecommerce_template_", admin_url=admin_url)
            self._migrate(self._settings_for(self.root / f"postgres-data-{len(self._postgres)}", database_url=url))
            self._postgres[admin_url] = databases.name_of(url)
        return self._postgres[admin_url]

    def drop_later(self, url: str) -> None:
        """Drop a test's PostgreSQL copy in the background: the next test need not wait for it."""
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_queued, name="drop-test-databases", daemon=True)
            self._dropper.start()
        self._to_drop.put(url)

    def _drop_queued(self) -> None:
        while (url := self._to_drop.get()) is not None:
            try:
                databases.drop_database(url)
            except psycopg2.Error as exc:  # reported by close(); the next drops still run
                self._drop_errors.append(f"{databases.name_of(url)}: {exc}".strip())
            finally:
                self._to_drop.task_done()

    def forget_server(self, admin_url: str) -> None:
        """Before a server goes away (the replica layout's private primary): finish the drops queued so
        far, and drop its template."""
        self._to_drop.join()
        name = self._postgres.pop(admin_url, None)
        if name is not None:
            databases.drop_database(databases.url_of(name, admin_url))

    def close(self) -> None:
        if self._dropper is not None:
            self._to_drop.put(None)
            self._dropper.join()
        for admin_url, name in self._postgres.items():
            databases.drop_database(databases.url_of(name, admin_url))
        self._postgres.clear()
        if self._drop_errors:
            raise RuntimeError("test databases left behind: " + "; ".join(self._drop_errors))
