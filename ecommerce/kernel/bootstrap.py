"""The kernel of one process: settings, enabled modules, their databases, ``run_sync`` and the relay.

The web app, the CLI, scripts and tests all start here, so a developer can use any module's ``api``
without Sanic::

    import ecommerce
    kernel = ecommerce.bootstrap()          # reads ECOMMERCE_* settings, binds databases
    from ecommerce.modules.users import api
    print(api.get_user(1))
"""

from __future__ import annotations

import datetime
import importlib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecommerce.kernel import concurrency, module_settings
from ecommerce.kernel.cache import build_cache
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.concurrency import SyncRunner
from ecommerce.kernel.database import Databases
from ecommerce.kernel.events import Consumer, InProcessTransport, Relay, RelayReport, Transport
from ecommerce.kernel.events.lake import EventLake
from ecommerce.kernel.events.metrics import EventMetrics
from ecommerce.kernel.events.tables import add_publish_listener, remove_publish_listener
from ecommerce.kernel.migrations import MigrationState
from ecommerce.kernel.migrations import migrate as migrate_module
from ecommerce.kernel.migrations import status as migration_status
from ecommerce.kernel.module import Module, ModuleContext, SeedContext
from ecommerce.kernel.registry import Registry, discover
from ecommerce.kernel.remote import facade
from ecommerce.kernel.remote.client import HttpAdapter
from ecommerce.kernel.remote.tokens import ServiceTokens
from ecommerce.kernel.replica_metrics import ReplicaMetrics
from ecommerce.kernel.security.principal_cache import PrincipalCache
from ecommerce.kernel.security.secrets import application_secret
from ecommerce.kernel.security.tokens import KeyRing, Principal, TokenSigner, derive_key
from ecommerce.kernel.settings import Settings

if TYPE_CHECKING:
    from ecommerce.kernel.events.rabbitmq import BrokerClient, BrokerConsumers

PrincipalCheck = Callable[[Principal], None]
TokenVerifier = Callable[[str], Principal]


@dataclass(frozen=True)
class OutboxState:
    module: str
    pending: int
    failed: int
    delivered: int
    #: Seconds since the oldest pending event occurred (None: nothing pending).
    oldest_pending: float | None = None


@dataclass(frozen=True)
class Replayed:
    """What ``replay_dead`` put back for one module."""

    module: str
    parked: int  # outbox rows of this module due again
    dead_letters: int | None  # messages moved from its dead-letter queue (None: no broker, or not a consumer)


class Kernel:
    def __init__(self, settings: Settings, modules: dict[str, Module] | None = None) -> None:
        self.settings = settings
        self.registry = Registry(discover() if modules is None else modules, settings)
        #: Each module's own settings, read and validated now: a bad value stops the start here.
        self.module_settings = module_settings.check(
            settings, {name: m.settings for name, m in self.registry.available.items()},
            [*self.registry.names(), *settings.remote_modules])
        self.secret = application_secret(settings)
        # Until a module supplies a key ring (users does, from its table), sign with a derived key.
        self.tokens = TokenSigner(
            KeyRing({"k0": derive_key(self.secret, "jwt:k0")}, "k0"),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=settings.access_token_ttl,
            leeway=settings.token_leeway,
        )
        #: How an access token becomes a principal; users replaces it where it is remote (the key ring
        #: and the sessions live in its service: one facade call does both, see ``authenticate``).
        self.verify_token: TokenVerifier = self.tokens.verify
        #: Extra checks on every authenticated request (e.g. "session not revoked"); modules add them.
        self.principal_checks: list[PrincipalCheck] = []
        #: Tokens that passed those checks moments ago (modules forget them on logout, suspension...).
        self.principals = PrincipalCache(settings.session_check_ttl)
        #: Shared read cache (in-process, or Redis when configured); modules namespace their keys.
        self.cache = build_cache(settings.redis_url, settings.rate_limit_namespace, settings.cache_ttl)
        self.databases = Databases(on_replica_read=lambda module, target: self.replica_metrics.read(module, target))
        #: Where ``replica_reads`` use cases' statements ran, and each replica's health (``/metrics``).
        self.replica_metrics = ReplicaMetrics(lambda: self.databases.replicas)
        for module in self.registry:
            self.databases.bind(module.name, module.database, settings)
        self.runner = SyncRunner(self.databases, settings.worker_threads)
        #: The data lake's event log (every relayed event), or None when ``ECOMMERCE_EVENT_LAKE=false``.
        self.lake = EventLake(settings.lake_dir) if settings.event_lake else None
        consumers = [Consumer(m.name, m.events, m.subscriptions) for m in self.registry if m.subscriptions]
        #: Prometheus counters of the events (``/metrics``), fed by the relay and the consumers.
        self.event_metrics = EventMetrics(self.relay_lag)
        #: With ``ECOMMERCE_EVENT_BROKER_URL``: the RabbitMQ connection and this process's module consumers.
        self.broker: BrokerClient | None = None
        self.consumers: BrokerConsumers | None = None
        transport: Transport | None = None
        if settings.event_broker_url:
            self.broker, transport, self.consumers = _broker(settings, consumers, self.runner, self.event_metrics)
        else:
            transport = InProcessTransport(consumers, on_consumed=self.event_metrics.consumed_in_process)
        self.relay = Relay(
            (m.events for m in self.registry),
            consumers,
            batch_size=settings.relay_batch_size,
            max_attempts=settings.relay_max_attempts,
            lease_seconds=settings.relay_lease_seconds,
            lake=self.lake,
            transport=transport,
            on_report=self.event_metrics.relay_report,
        )
        add_publish_listener(self.relay.hint)  # which outboxes a woken relay should look at
        concurrency.activate(self.runner)
        #: Service-to-service tokens: issued for this process's facade calls, checked on /internal routes.
        self.service_tokens = ServiceTokens(self.secret, settings.service_name)
        self.remote_adapters = self._remote_facades()
        for module in self.registry:
            if module.setup is not None:
                module.setup(ModuleContext.of(self, self.module_settings.get(module.name)))
        for name in settings.remote_modules:
            remote = self.registry.available.get(name)
            if remote is not None and remote.remote_setup is not None:
                remote.remote_setup(ModuleContext.of(self, self.module_settings.get(name)))

    def _remote_facades(self) -> dict[str, HttpAdapter]:
        """Import every facade (their ``@remotable`` marks) and route the remote modules' calls to HTTP
        adapters; the hosted ones stay plain calls."""
        for module in self.registry.available.values():
            if module.facade and (module.name in self.registry or module.name in self.settings.remote_modules):
                importlib.import_module(module.facade)
        adapters: dict[str, HttpAdapter] = {}
        for name, target in self.settings.remote_modules.items():
            if name in self.registry:
                continue  # hosted here after all: the local call wins
            service, _, url = target.partition("@")
            adapters[name] = HttpAdapter(name, service, url, self.service_tokens,
                                         timeout=self.settings.remote_timeout, retries=self.settings.remote_retries)
        if adapters or facade.installed():
            facade.install(adapters)
        return adapters

    @property
    def modules(self) -> Registry:
        return self.registry

    def call(self, fn: Callable[..., object], *args: object, **kwargs: object) -> object:
        """Run a use case synchronously with connection clean-up (CLI and scripts)."""
        return self.runner.call(fn, *args, **kwargs)

    def migrate(self, progress: Callable[[str], None] | None = None) -> dict[str, list[str]]:
        applied: dict[str, list[str]] = {}
        for module in self.registry:
            if progress:
                progress(module.name)
            applied[module.name] = migrate_module(module.name, self.databases.get(module.name), module.migrations)
        return applied

    def migration_status(self) -> list[MigrationState]:
        states: list[MigrationState] = []
        for module in self.registry:
            states.extend(migration_status(module.name, self.databases.get(module.name), module.migrations))
        return states

    def pending_migrations(self) -> list[MigrationState]:
        return [state for state in self.migration_status() if state.applied is None]

    def seed(self, scale: int = 1, demo: bool = True, only: Iterable[str] | None = None) -> dict[str, list[str]]:
        """Run each module's seeder (dependencies first); seeders are idempotent."""
        wanted = set(only) if only is not None else None
        done: dict[str, list[str]] = {}
        for module in self.registry:
            if module.seed is not None and (wanted is None or module.name in wanted):
                done[module.name] = self.runner.call(module.seed, SeedContext(self, scale=scale, demo=demo))
        return done

    def relay_once(self, now: datetime.datetime | None = None) -> RelayReport:
        return self.runner.call(self.relay.run_once, now)

    def relay_until_idle(self, max_passes: int = 10_000) -> RelayReport:
        """Relay pass after pass until nothing due is left (``ecommerce events relay``).

        With a broker, each pass also drains this process's module queues (the consumers' work), so the
        effects are done when it returns, as in-process: a handler's failure counts as ``retried`` (the
        message waits in a retry queue) and a dead letter as ``failed``."""
        total = RelayReport()
        for _ in range(max_passes):
            report = self.relay_once()
            consumed = 0  # messages the consumers took (their handlers may have published more events)
            if self.consumers is not None:
                drained = self.consumers.drain()
                report.retried += drained.retried
                report.failed += drained.dead
                report.errors.extend(drained.errors)
                consumed = drained.handled
            total += report
            if report.delivered + report.retried + report.failed + consumed == 0:
                break
        return total

    def outbox_state(self) -> list[OutboxState]:
        now = utcnow()

        def count(module: Module) -> OutboxState:
            Outbox = module.events.Outbox
            delivered = Outbox.select().where(Outbox.delivered_at.is_null(False)).count()
            failed = Outbox.select().where(Outbox.failed_at.is_null(False)).count()
            oldest = module.events.oldest_pending()
            age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else None
            return OutboxState(module.name, module.events.pending_count(), failed, delivered, age)

        return [self.runner.call(count, m) for m in self.registry]

    def relay_lag(self) -> dict[str, float]:
        """Per module, the age in seconds of the oldest outbox row that is due but not delivered (0: none):
        how far behind the relay is (``events_relay_lag_seconds``, read at scrape time)."""
        now = utcnow()
        lag: dict[str, float] = {}
        for module in self.registry:
            oldest = self.runner.call(module.events.oldest_pending, now)
            lag[module.name] = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        return lag

    def replay_dead(self, modules: Sequence[str] | None = None) -> list[Replayed]:
        """Put the selected modules' (default: every module's) dead events back: with a broker, each
        consuming module's dead letters into its queue (attempts reset), then, with or without one, each
        module's parked outbox rows (due now, attempts reset) for the relay. ``ValueError`` names an
        unknown module; a broker that cannot be reached raises before anything moved."""
        names = self.registry.names()
        unknown = sorted(set(modules or ()) - set(names))
        if unknown:
            raise ValueError(f"no module named {', '.join(unknown)} (enabled: {', '.join(names)})")
        selected = [m for m in self.registry if not modules or m.name in modules]
        moved: dict[str, int] = {}
        queues = [m.name for m in selected if self.consumers is not None and m.name in self.consumers.by_module]
        if self.consumers is not None and queues:
            moved = self.consumers.replay_dead(queues)
        return [Replayed(m.name, self.runner.call(m.events.replay_parked), moved.get(m.name)) for m in selected]

    def authenticate(self, token: str) -> Principal:
        """Verify an access token and run the modules' checks; blocking (call through run_sync).
        Always checks; the HTTP guard asks ``principals`` first, and this remembers the answer there."""
        generation = self.principals.generation
        principal = self.verify_token(token)
        for check in self.principal_checks:
            check(principal)
        self.principals.remember(token, principal, generation)
        return principal

    def wrote_recently(self, user_id: int) -> None:
        """Remember for ``ECOMMERCE_READ_YOUR_WRITES`` seconds that this user wrote (shared through the cache,
        so every instance keeps the user's reads on the primary); nothing to do without replicas."""
        if self.databases.replicas and self.settings.read_your_writes > 0:
            self.cache.set(f"kernel:wrote:{user_id}", 1, ttl=max(1, math.ceil(self.settings.read_your_writes)))

    def caller_of(self, authorization: str) -> int | None:
        """The user id of a validly signed bearer token, else None: only to route that caller's reads
        (no session check; every guarded route still authenticates fully)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return self.tokens.verify(token.strip()).user_id
        except Exception:  # any bad token: routed as an anonymous caller, refused later where it matters
            return None

    def recently_wrote(self, user_id: int) -> bool:
        return bool(self.databases.replicas) and self.cache.get(f"kernel:wrote:{user_id}") is not None

    def close(self) -> None:
        remove_publish_listener(self.relay.hint)
        if self.remote_adapters:
            facade.install({})
            for adapter in self.remote_adapters.values():
                adapter.close()
        if self.consumers is not None:
            self.consumers.stop()
        if self.broker is not None:
            self.broker.close()
        self.runner.shutdown()
        self.databases.close_all()
        concurrency.activate(None)


def _broker(
    settings: Settings, consumers: list[Consumer], runner: SyncRunner, metrics: EventMetrics
) -> tuple[BrokerClient, Transport, BrokerConsumers]:
    """The RabbitMQ side of the kernel: one client, the relay's transport, the module consumers. Imported
    here, not at the top: a process without a broker never loads aio-pika."""
    from ecommerce.kernel.events.rabbitmq import BrokerClient, BrokerConsumers, RabbitTransport, Topology

    assert settings.event_broker_url is not None
    topology = Topology(
        settings.event_broker_namespace,
        {c.module: [sub.event.key() for sub in c.subscriptions] for c in consumers},
    )
    client = BrokerClient(settings.event_broker_url, topology)
    return client, RabbitTransport(client), BrokerConsumers(
        client,
        consumers,
        runner.call,
        batch_size=settings.relay_batch_size,
        max_attempts=settings.relay_max_attempts,
        retry_base=settings.event_retry_base,
        on_report=metrics.consume_report,
    )


@contextmanager
def migrated(settings: Settings) -> Iterator[Kernel]:
    """A kernel with every migration applied, closed afterwards (the shape of every CLI command)."""
    kernel = Kernel(settings)
    try:
        kernel.migrate()
        yield kernel
    finally:
        kernel.close()


def run_until_done(settings: Settings, batch_job: Callable[[], int]) -> int:
    """Run a batch job (expiry, sweeps: each call handles one batch and returns how many) on a migrated
    kernel until a call finds nothing left; the total. The shape of the CLI's "do it now" commands."""
    total = 0
    with migrated(settings) as kernel:
        while done := kernel.runner.call(batch_job):
            total += done
    return total


def bootstrap(settings: Settings | None = None, *, migrate: bool = False) -> Kernel:
    """Start a kernel for a script or job; ``migrate=True`` also applies pending migrations."""
    kernel = Kernel(settings or Settings.from_env())
    if migrate:
        kernel.migrate()
    return kernel
