"""The databases the benchmarks run on: one per backend and scale, generated once and reused.

- SQLite: ``benchmarks/.cache/sqlite-scale<N>/`` (one file for every module, the embedded default);
- PostgreSQL: database ``ecommerce_bench_scale<N>`` on the server ``ECOMMERCE_BENCH_POSTGRES_URL``
  (default ``postgresql://postgres@127.0.0.1:5432/postgres``) names, a schema per module.

The dataset generator refuses to run twice, so a second session starts at once. Scratch tables the
suites create are all named ``bench_*`` and rebuilt by each suite's ``prepare``.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg2
from psycopg2 import sql as pgsql

from benchmarks.sql.harness import Target
from ecommerce.devtools.dataset import generate
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.settings import Settings

CACHE = Path(__file__).resolve().parent.parent / ".cache"
ADMIN_URL = os.environ.get("ECOMMERCE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgres")


def settings_for(data_dir: Path, database_url: str | None = None) -> Settings:
    """Quiet settings with a pool big enough for the concurrency suite's threads."""
    values: dict[str, object] = {
        "env": "test", "data_dir": data_dir, "secret_key": "benchmark-secret-" + "x" * 40,
        "module_settings": {"users": {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}},
        "run_relay": False,
        "log_level": "WARNING", "worker_threads": 4, "db_pool_size": 24, "sqlite_busy_timeout": 30.0,
    }
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)  # type: ignore[arg-type]


def postgres_database(name: str) -> str:
    """The URL of database ``name`` on the benchmark server, created if missing."""
    conn = psycopg2.connect(ADMIN_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    finally:
        conn.close()
    return f"{ADMIN_URL.rpartition('/')[0]}/{name}"


def open_target(backend: str, scale: int, *, progress: bool = True) -> Target:
    """A migrated kernel on ``backend`` holding the scale-``scale`` dataset (generated on first use)."""
    data_dir = CACHE / f"{backend}-scale{scale}"
    url = postgres_database(f"ecommerce_bench_scale{scale}") if backend == "postgres" else None
    kernel = Kernel(settings_for(data_dir, url))
    kernel.migrate()
    generate(kernel, scale, progress=progress)
    return Target(backend, kernel, scale)
