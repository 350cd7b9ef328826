"""Shared fixtures: every test that asks for ``settings`` (or anything built on it) runs three times,
once per database layout in ``tests/support/databases.py`` (more in the integration suite, which adds
``postgres-replica``, and for tests marked ``events``, which add ``postgres-rabbitmq``).

Its database is the test's own and already migrated: a copy of a template migrated once per layout per
process (``tests/support/templates.py``); a test marked ``unmigrated`` gets an empty one instead (tests of
migrations themselves). Migrating again is a no-op, so ``kernel.migrate()`` in a test stays correct.

PostgreSQL tests are skipped when no server answers (``postgres-replica``: when PostgreSQL's server
binaries are not installed), and fail instead when ``ECOMMERCE_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets
it): CI must never pass by skipping them.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from tests.support import databases, pg_cluster, services
from tests.support.bytecode import cache_bytecode
from tests.support.live_server import LiveServer
from tests.support.pg_cluster import ReplicatedCluster
from tests.support.py311 import guard_ast_reentrancy
from tests.support.routing import compile_each_routing_source_once
from tests.support.shop import Shop, shop, shop_factory  # noqa: F401 - fixtures shared by e2e and security tests
from tests.support.templates import Templates
from tests.support.tls import share_default_ssl_context

guard_ast_reentrancy()  # before xdist starts its workers, so they and every server they start inherit it
cache_bytecode()  # compiled once, not once per process (tests/support/bytecode.py)
share_default_ssl_context()  # one CA bundle load per process, not one per httpx client (tests/support/tls.py)
compile_each_routing_source_once()  # one compilation per routing source, not one per app (tests/support/routing.py)

_app_names = itertools.count(1)
#: The suite whose tests also run on the ``postgres-replica`` layout.
INTEGRATION = Path(__file__).parent / "integration"
#: Modules that exist only in the test suite (their schemas are reset too).
EXTRA_MODULES = ("audit", "paysim", "tally", "wishlist")


def test_settings(data_dir: Path, **overrides: object) -> Settings:
    """Fast, quiet settings for tests: cheap argon2, no background relay (tests drive it)."""
    values: dict[str, object] = {
        "env": "test",
        "data_dir": data_dir,
        "secret_key": "test-secret-" + "x" * 40,
        "run_relay": False,
        "log_level": "WARNING",
        "worker_threads": 8,
        "db_pool_size": 8,
        # Throttling has its own tests; elsewhere it must not turn a busy test into a 429.
        "rate_limit": "100000/minute",
        "auth_rate_limit": "100000/minute",
        "user_rate_limit": "100000/minute",
    }
    values.update(overrides)
    # The users module's settings: cheap argon2 (a test's own module_settings add to these).
    return Settings(**values).replace(  # type: ignore[arg-type]
        module_settings={"users": {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the PostgreSQL runs so ``-m 'not postgres'`` selects the SQLite ones only (and the broker runs
    ``rabbitmq``, so ``-m 'not rabbitmq'`` leaves them out)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        layout = callspec.params.get("backend") if callspec is not None else None
        if layout is not None and databases.on_postgres(layout):
            item.add_marker(pytest.mark.postgres)
        if layout == databases.BROKER_LAYOUT:
            item.add_marker(pytest.mark.rabbitmq)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """An xdist worker whose run is over leaves without tearing its interpreter down.

    Why: a worker ends a full run holding hundreds of MB of objects (schemathesis and hypothesis caches,
    apps, pages), and CPython's finalization freed them one by one in C: 10-17 s after the last test of a
    run in which every worker was already done (seen with py-spy: no Python frame left, all in the
    interpreter). Its report went to the controller before this hook (``workerfinished``), its fixtures
    are torn down, and no code of ours registers exit handlers, so there is nothing left to do."""
    if hasattr(config, "workerinput"):
        atexit.register(_leave_at_once)


def _leave_at_once() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One fresh PostgreSQL database for the whole run, dropped at the end."""
    error = databases.postgres_error()
    if error is not None:
        if databases.postgres_required():
            pytest.fail(f"ECOMMERCE_REQUIRE_POSTGRES=1 but {error}", pytrace=False)
        pytest.skip(error)
    url = databases.create_database()
    yield url
    databases.drop_database(url)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that needs a ``backend`` runs once per database layout, and a test whose subject is
    integration events crossing modules (marked ``events``, as whole integration and e2e modules are) once
    more on PostgreSQL with the RabbitMQ transport. Integration tests also run on PostgreSQL with the
    marked reads served by a streaming replica (``postgres-replica``; not the e2e, contract or security
    suites: the layout changes where use cases read, which the integration tests cover, and each run costs
    time). A test that names its layouts itself (``@pytest.mark.parametrize("backend", ...)``) keeps them."""
    if "shared_shop" in metafunc.fixturenames:  # one server per test module and layout
        metafunc.parametrize("shared_layout", databases.BACKENDS, indirect=True, scope="module")
    if "backend" not in metafunc.fixturenames:
        return
    if any("backend" in str(mark.args[0]) for mark in metafunc.definition.iter_markers("parametrize")):
        return
    layouts = databases.BACKENDS
    if metafunc.definition.get_closest_marker("events") is not None:
        layouts += (databases.BROKER_LAYOUT,)
    if metafunc.definition.path.is_relative_to(INTEGRATION):
        layouts += (databases.REPLICA_LAYOUT,)
    metafunc.parametrize("backend", layouts, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The broker the ``postgres-rabbitmq`` layout uses (fails when missing in CI, like PostgreSQL)."""
    return services.require_rabbitmq()


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """This process's migrated template databases (built on first use, dropped at the end)."""
    templates = Templates(tmp_path_factory.mktemp("templates"), test_settings)
    yield templates
    templates.close()


@pytest.fixture(scope="session")
def replica_cluster(database_templates: Templates) -> Iterator[ReplicatedCluster]:
    """The ``postgres-replica`` layout's private primary and streaming replica: one pair per test process,
    started when its first test needs it (an xdist worker that never runs one starts none), stopped and
    deleted at the end. It replicates synchronously up to replay (``synchronous=True``: a commit returns
    once the replica has applied it), so a read on the replica after a write is deterministic."""
    if pg_cluster.binaries() is None:
        error = "PostgreSQL's server binaries are not installed (apt-get install postgresql)"
        if databases.postgres_required():
            pytest.fail(f"ECOMMERCE_REQUIRE_POSTGRES=1 but {error}", pytrace=False)
        pytest.skip(error)
    # Several pools per test (one per module on each server, plus a live server's): above the default 100.
    cluster = pg_cluster.start_replicated_cluster(max_connections=300, synchronous=True)
    try:
        yield cluster
        database_templates.forget_server(cluster.primary.url())  # its databases go with its server
    finally:
        cluster.close()


@contextlib.contextmanager
def layout_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                    migrated: bool = True) -> Iterator[Settings]:
    """Settings on a database of its own in ``backend``'s layout, migrated (a copy of the template) or
    empty; afterwards a migrated copy is emptied for a later test (``tests/support/recycling.py``), an
    empty one dropped."""
    data_dir = tmp_path / "data"
    templates: Templates = request.getfixturevalue("database_templates")
    if backend == databases.REPLICA_LAYOUT:
        cluster: ReplicatedCluster = request.getfixturevalue("replica_cluster")
        server = cluster.primary.url()
        url = templates.postgres_copy(server) if migrated else databases.create_database(admin_url=server)
        try:  # the replica has the new database already: its commit waited for the replica's replay
            yield test_settings(data_dir, database_url=url,
                                database_replica_url=cluster.replica.url(databases.name_of(url)))
        finally:
            (templates.release if migrated else templates.drop_later)(url)
        return
    if not databases.on_postgres(backend):
        if backend == "sqlite":
            if migrated:
                templates.copy_sqlite(backend, data_dir)
            yield test_settings(data_dir)
        else:
            if migrated:
                templates.copy_sqlite(backend, tmp_path / "db")
            yield test_settings(data_dir, database_url=f"sqlite:///{tmp_path}/db/{{module}}.db")
        return
    request.getfixturevalue("postgres_url")  # skips, or fails when PostgreSQL is required and absent
    url = templates.postgres_copy() if migrated else databases.create_database()
    try:
        if backend == databases.BROKER_LAYOUT:
            yield test_settings(
                data_dir, database_url=url, event_broker_url=request.getfixturevalue("rabbitmq_url"),
                event_broker_namespace=request.getfixturevalue("broker_namespace"), event_retry_base=0.05,
            )
        else:
            yield test_settings(data_dir, database_url=url)
    finally:
        (templates.release if migrated else templates.drop_later)(url)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings on a database of this test's own, migrated (empty when the test is marked ``unmigrated``)."""
    with layout_settings(backend, tmp_path, request, migrated=request.node.get_closest_marker("unmigrated") is None) \
            as made:
        yield made


@pytest.fixture(scope="module")
def shared_layout(request: pytest.FixtureRequest) -> str:
    """The database layout of ``shared_shop`` (the three of ``databases.BACKENDS``)."""
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def shared_shop(shared_layout: str, tmp_path_factory: pytest.TempPathFactory,
                request: pytest.FixtureRequest) -> Iterator[Shop]:
    """One live app per test module and layout, for tests that only read or write what is their own (a
    fresh account, their own cart): a test module opts in by taking ``shared_shop`` instead of ``shop``.
    Why: starting a server and copying a database for each test is most of such a test's time. Its
    layouts are the three database layouts (not the broker's or the replica's)."""
    with layout_settings(shared_layout, tmp_path_factory.mktemp("shared"), request) as made:
        from ecommerce.app import create_app

        app = create_app(settings=made, name=f"ecommerce_test_{next(_app_names)}")
        app.ctx.kernel.migrate()
        server = LiveServer(app).start()
        client = httpx.Client(base_url=server.url, timeout=30)
        try:
            yield Shop(server, client, app.ctx.kernel)
        finally:
            client.close()
            server.stop()  # its kernel closes with it


@pytest.fixture
def broker_namespace() -> Iterator[str]:
    """Queue and exchange names unique to one test; deleted afterwards."""
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    yield namespace
    services.delete_broker_namespace(namespace, [*discover(), *EXTRA_MODULES], max_attempts=10, retry_base=0.05)


@pytest.fixture
def kernel(settings: Settings) -> Iterator[Kernel]:
    """A migrated kernel on a clean database."""
    k = Kernel(settings)
    k.migrate()
    yield k
    k.close()


@pytest.fixture
def app_factory(settings: Settings) -> Iterator[object]:
    """Build (but do not start) an app; lets a test add routes before serving."""
    from ecommerce.app import create_app

    created = []

    def make(**overrides: object) -> object:
        app = create_app(settings=settings.replace(**overrides), name=f"ecommerce_test_{next(_app_names)}")
        app.ctx.kernel.migrate()
        created.append(app)
        return app

    yield make


@pytest.fixture
def live(app_factory: object) -> Iterator[LiveServer]:
    """A migrated app served over real HTTP on a free port."""
    server = LiveServer(app_factory()).start()  # type: ignore[operator]
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as c:
        yield c
