"""Migrated template databases: migrate once per layout per test process, copy per test.

Migrating every module takes 0.5 s on SQLite and about 3 s on PostgreSQL; copying a migrated database
takes a few milliseconds (a file copy) or about a tenth of a second (``CREATE DATABASE ... TEMPLATE``).
Each test still gets a database of its own, so nothing one test writes is seen by another. A PostgreSQL
copy a test is done with is emptied in the background and handed to a later test of the same process
when only its rows changed, else dropped (``tests/support/recycling.py`` says why and how it is checked).

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
from tests.support.recycling import TemplateState, reset


class Templates:
    """One migrated database per layout family, made lazily: SQLite files under ``root``, one PostgreSQL
    database per server (the test server's is shared by ``postgres`` and ``postgres-rabbitmq``: the broker
    changes no table; the private primary of ``postgres-replica`` has its own)."""

    def __init__(self, root: Path, settings_for: Callable[..., Settings]) -> None:
        self.root = root
        self._settings_for = settings_for
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, str] = {}  # admin URL of a server -> its template's name
        self._states: dict[str, TemplateState] = {}  # admin URL of a server -> what its copies must match
        self._ready: dict[str, list[str]] = {}  # admin URL of a server -> emptied copies, ready for a test
        self._ready_lock = threading.Lock()
        self._to_drop: queue.Queue[tuple[str, bool] | None] = queue.Queue()
        self._dropper: threading.Thread | None = None
        self._drop_errors: list[str] = []
        self.recycled = 0  # copies handed out again

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
            self._states[admin_url] = TemplateState.read(url)
            self._postgres[admin_url] = databases.name_of(url)
        return self._postgres[admin_url]

    def postgres_copy(self, admin_url: str = databases.ADMIN_URL) -> str:
        """A migrated database for one test on the server of ``admin_url``: an emptied copy an earlier
        test of this process released, or a new copy of the template."""
        template = self.postgres_template(admin_url)
        with self._ready_lock:
            ready = self._ready.get(admin_url)
            if ready:
                self.recycled += 1
                return ready.pop()
        return databases.create_database(template=template, admin_url=admin_url)

    def release(self, url: str) -> None:
        """A test is done with its migrated copy: emptied in the background for a later test (or dropped
        when more than its rows changed); the next test need not wait for either."""
        self._queue(url, recycle=True)

    def drop_later(self, url: str) -> None:
        """Drop a test's PostgreSQL database in the background: the next test need not wait for it."""
        self._queue(url, recycle=False)

    def _queue(self, url: str, recycle: bool) -> None:
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_queued, name="drop-test-databases", daemon=True)
            self._dropper.start()
        self._to_drop.put((url, recycle))

    def _drop_queued(self) -> None:
        while (item := self._to_drop.get()) is not None:
            url, recycle = item
            try:
                admin_url = databases.admin_url_of(url)
                state = self._states.get(admin_url)
                if recycle and state is not None and reset(url, admin_url, state):
                    with self._ready_lock:
                        self._ready.setdefault(admin_url, []).append(url)
                else:
                    databases.drop_database(url)
            except psycopg2.Error as exc:  # reported by close(); the next drops still run
                self._drop_errors.append(f"{databases.name_of(url)}: {exc}".strip())
            finally:
                self._to_drop.task_done()

    def _drop_ready(self, admin_url: str) -> None:
        with self._ready_lock:
            ready = self._ready.pop(admin_url, [])
        for url in ready:
            databases.drop_database(url)

    def forget_server(self, admin_url: str) -> None:
        """Before a server is deleted (the replica layout's private primary): wait for the work queued so far
        (a copy being emptied must not lose its server mid-way), then forget its copies and its template
        without dropping them. Each ``DROP DATABASE`` forces a checkpoint, and replicated to the standby, of
        a server whose files are deleted a moment later: seconds of the run's end for nothing."""
        self._to_drop.join()
        with self._ready_lock:
            self._ready.pop(admin_url, None)
        self._states.pop(admin_url, None)
        self._postgres.pop(admin_url, None)

    def close(self) -> None:
        if self._dropper is not None:
            self._to_drop.put(None)
            self._dropper.join()
        for admin_url in list(self._ready):
            self._drop_ready(admin_url)
        for admin_url, name in self._postgres.items():
            databases.drop_database(databases.url_of(name, admin_url))
        self._postgres.clear()
        if self._drop_errors:
            raise RuntimeError("test databases left behind: " + "; ".join(self._drop_errors))
