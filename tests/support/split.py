"""The split layout for end-to-end tests: three services, each on its own fresh PostgreSQL database,
events over RabbitMQ in a namespace of their own, on free ports. Missing PostgreSQL, RabbitMQ or nginx
fails the test in CI (``ECOMMERCE_REQUIRE_*``), as everywhere in the suite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from ecommerce.kernel.layout import SHIPPED, Layout, load
from tests.support import databases, nginx, services
from tests.support.processes import cli_env, free_port, free_ports

#: Which service hosts which modules: the shipped split layout's, so the test cannot drift from it.
SERVICES = {name: service.modules for name, service in load(SHIPPED / "split.toml").services.items()}


@dataclass(frozen=True)
class SplitLayout:
    path: Path
    layout: Layout
    urls: dict[str, str]  # service -> its database
    env: dict[str, str]  # for every child process (same secret, broker namespace, fast relay)
    namespace: str

    def schemas(self, service: str) -> set[str]:
        """The schemas that hold tables in one service's database."""
        with psycopg2.connect(self.urls[service]) as conn, conn.cursor() as cur:
            cur.execute("SELECT DISTINCT table_schema FROM information_schema.tables "
                        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
            found = {row[0] for row in cur.fetchall()}
        conn.close()
        return found


def require_postgres() -> None:
    error = databases.postgres_error()
    if error is not None:
        if databases.postgres_required():
            pytest.fail(f"ECOMMERCE_REQUIRE_POSTGRES=1 but {error}", pytrace=False)
        pytest.skip(error)


@contextmanager
def split_layout(tmp_path: Path, *, room: int = 1) -> Iterator[SplitLayout]:
    """A split layout file like the shipped one, on fresh databases and free ports; dropped afterwards.
    ``room``: consecutive free ports each service leaves for its instances (``up --instances N``, N <= room),
    as the shipped file leaves ten."""
    require_postgres()
    broker = services.require_rabbitmq()
    nginx.binary()
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    urls = {name: databases.create_database() for name in SERVICES}
    if room > 1:  # each service's block of ports, then the gateway's
        first = free_ports(len(SERVICES) * room + 1)
        ports = [first + n * room for n in range(len(SERVICES) + 1)]
    else:
        ports = [free_port() for _ in range(len(SERVICES) + 1)]
    blocks = "".join(
        f'\n[services.{name}]\naddress = "127.0.0.1:{port}"\nmodules = {list(modules)!r}\n'
        f'database = "{urls[name]}"\n'.replace("'", '"')
        for (name, modules), port in zip(SERVICES.items(), ports[:-1], strict=True)
    )
    path = tmp_path / "split.toml"
    path.write_text(f'name = "split"\n\n[gateway]\naddress = "127.0.0.1:{ports[-1]}"\ndefault = "core"\n\n'
                    f'[events]\nbroker = "{broker}"\n{blocks}')
    env = cli_env(tmp_path, ECOMMERCE_EVENT_BROKER_NAMESPACE=namespace, ECOMMERCE_SECRET_KEY="split-" + "s" * 40,
                  ECOMMERCE_RELAY_INTERVAL="0.2", ECOMMERCE_JOB_INTERVAL="0.5", ECOMMERCE_EVENT_RETRY_BASE="0.2",
                  ECOMMERCE_TRUSTED_PROXIES="127.0.0.1")
    try:
        yield SplitLayout(path, load(path), urls, env, namespace)
    finally:
        services.delete_broker_namespace(namespace, [m for ms in SERVICES.values() for m in ms],
                                         max_attempts=10, retry_base=0.2)
        for url in urls.values():
            databases.drop_database(url)
