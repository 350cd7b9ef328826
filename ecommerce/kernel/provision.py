"""Create a layout service's PostgreSQL database when it does not exist yet (development only).

Why: ``ecommerce up --layout split`` on a laptop must be one command, and the split layout gives each
service a database of its own (``ecommerce_core``, ``ecommerce_catalog``, ...). In production databases
are provisioned by whoever runs PostgreSQL, so ``ECOMMERCE_ENV=production`` never creates one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

log = logging.getLogger("ecommerce.provision")


def ensure_databases(urls: Iterable[str]) -> list[str]:
    """Create every missing PostgreSQL database among ``urls`` (SQLite URLs are left alone: the file is
    made on first use); the names created."""
    created: list[str] = []
    for url in dict.fromkeys(urls):
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres"):
            continue
        name = parts.path.lstrip("/")
        try:
            psycopg2.connect(url, connect_timeout=5).close()
            continue
        except psycopg2.OperationalError as exc:
            if "does not exist" not in str(exc):
                raise
        admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")), connect_timeout=5)
        admin.autocommit = True  # CREATE DATABASE refuses to run in a transaction
        try:
            with admin.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg2.errors.DuplicateDatabase:
            continue  # another service of the layout made it meanwhile
        finally:
            admin.close()
        log.info("created database", extra={"database": name})
        created.append(name)
    return created
