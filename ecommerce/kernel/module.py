"""The module contract: everything a domain module hands the kernel, in one declarative object.

A module is a package that exposes ``module = Module(...)`` and is listed in the ``ecommerce.modules``
entry-point group. The kernel needs nothing else: it binds the database, runs the migrations, mounts
the blueprint under ``/api/v1``, routes events to subscriptions and calls the seeder.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from peewee import DatabaseProxy, Model

from ecommerce.kernel.events import EventTables, IntegrationEvent, Subscription

if TYPE_CHECKING:
    from ecommerce.kernel.bootstrap import Kernel, PrincipalCheck, TokenVerifier
    from ecommerce.kernel.cache import Cache
    from ecommerce.kernel.events.lake import EventLake
    from ecommerce.kernel.registry import Registry
    from ecommerce.kernel.security.principal_cache import PrincipalCache
    from ecommerce.kernel.security.tokens import TokenSigner
    from ecommerce.kernel.settings import Settings

S = TypeVar("S")
T = TypeVar("T")


def load(reference: str) -> Any:
    """What ``"package.module:attribute"`` names, imported now (``blueprint`` and ``cli`` are such strings)."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _defined_events(module_name: str) -> list[type[IntegrationEvent]]:
    """The integration events a module's ``events.py`` defines (not those it imports), in their order there;
    a class whose name starts with ``_`` is a base the events share, not an event."""
    defined = vars(importlib.import_module(module_name)).values()
    return [event for event in defined if isinstance(event, type) and issubclass(event, IntegrationEvent)
            and event.__module__ == module_name and not event.__name__.startswith("_")]


def module_storage(name: str) -> tuple[DatabaseProxy, EventTables]:
    """The module ``name``'s database, a proxy the kernel binds at start-up to the module's own database, and
    its outbox and inbox (``EventTables``) in it, so an event commits with the change it announces: what a
    ``models.py`` declares as ``database, events = module_storage(MODULE)`` (and a module without one gets)."""
    database = DatabaseProxy()
    return database, EventTables(name, database)


#: What runs an ``ecommerce <module> <command>``: the parsed arguments and the settings; the exit status.
CommandHandler = Callable[[argparse.Namespace, "Settings"], int]


def command_group(sub: argparse._SubParsersAction[Any], name: str, help: str) -> argparse._SubParsersAction[Any]:
    """``ecommerce <name> ...``: a group of a module's sub-commands, one of which must be given."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", required=True)


def command(group: argparse._SubParsersAction[Any], name: str, handler: CommandHandler,
            help: str) -> argparse.ArgumentParser:
    """``ecommerce <group> <name>``, run by ``handler``; add its arguments to the parser returned."""
    parser: argparse.ArgumentParser = group.add_parser(name, help=help)
    parser.set_defaults(handler=handler)
    return parser


@dataclass(frozen=True)
class SeedContext:
    """What a seeder gets: the kernel (for other modules' facades) and how much to make."""

    kernel: Kernel
    scale: int = 1
    demo: bool = True


@dataclass(frozen=True)
class ModuleContext(Generic[S]):
    """What a module's ``setup`` gets, and all it gets: its own settings (the instance of the class it
    declares, ``<Name>Settings`` or ``Module(settings=...)``, read and validated) and the kernel services
    modules use, as the kernel has them when it calls ``setup`` (:meth:`of`).
    One narrow door in: a module never reads the kernel's settings for its own knobs, and nothing
    outside the module sets what it keeps."""

    settings: S
    #: ``development``, ``test`` or ``production``.
    env: str
    data_dir: Path
    redis_url: str | None
    #: The prefix of this shop's keys in shared stores (Redis).
    namespace: str
    #: The shared read cache (in-process, or Redis); namespace your keys with the module's name.
    cache: Cache
    #: Seconds a cached entry lives (``ECOMMERCE_CACHE_TTL``, the kernel's; 0: the cache is off).
    cache_ttl: int
    #: The application secret: derive purpose-bound keys from it (``derive_key``), never use it as is.
    secret: str
    tokens: TokenSigner
    principals: PrincipalCache
    #: The data lake's event log, or None when it is off.
    lake: EventLake | None
    #: The enabled modules (read-only use: their event schemas, their names).
    registry: Registry
    _kernel: Kernel = field(repr=False)

    @classmethod
    def of(cls, kernel: Kernel, settings: S) -> ModuleContext[S]:
        """The context of a module whose own settings are ``settings``, in ``kernel``."""
        config = kernel.settings
        return cls(settings=settings, env=config.env, data_dir=config.data_dir, redis_url=config.redis_url,
                   namespace=config.rate_limit_namespace, cache=kernel.cache, cache_ttl=config.cache_ttl,
                   secret=kernel.secret, tokens=kernel.tokens, principals=kernel.principals, lake=kernel.lake,
                   registry=kernel.registry, _kernel=kernel)

    def derive_key(self, purpose: str) -> bytes:
        from ecommerce.kernel.security.tokens import derive_key

        return derive_key(self.secret, purpose)

    def add_principal_check(self, check: PrincipalCheck) -> None:
        """Run ``check`` on every authenticated request (e.g. "session not revoked")."""
        self._kernel.principal_checks.append(check)

    def verify_tokens_with(self, verifier: TokenVerifier) -> None:
        """How access tokens become principals in this process (a remote users module's check)."""
        self._kernel.verify_token = verifier


class Runtime(Generic[T]):
    """What a module built in its ``setup`` (its settings, a vault, a channel...), kept in one place of the
    module's own: only the module's setup calls ``start``; its code reads ``get()``."""

    def __init__(self, module: str) -> None:
        self._module = module
        self._value: T | None = None

    def start(self, value: T) -> None:
        self._value = value

    def get(self) -> T:
        if self._value is None:
            raise RuntimeError(f"the {self._module} module is not set up: start the kernel with ecommerce.bootstrap()")
        return self._value

    @contextmanager
    def replaced(self, value: T) -> Iterator[T]:
        """For tests only: run a block with another value (a second process's vault...), then restore."""
        previous = self._value
        self._value = value
        try:
            yield value
        finally:
            self._value = previous


@dataclass(frozen=True)
class Job:
    """Background work the app runs every ``every`` seconds in each worker: it must be idempotent
    (several workers run it) and is also reachable from the CLI."""

    name: str
    every: float
    run: Callable[[], object]


@dataclass(frozen=True)
class Module:
    name: str
    description: str
    database: DatabaseProxy
    events: EventTables
    models: Sequence[type[Model]] = ()
    migrations: Path | None = None
    #: ``"package.http:build_blueprint"`` — a string so importing the module never imports Sanic.
    blueprint: str | None = None
    #: True: the blueprint serves pages from the site's root (``/``), not under ``/api/v1`` (the storefront).
    site: bool = False
    publishes: Sequence[type[IntegrationEvent]] = ()
    subscriptions: Sequence[Subscription] = ()
    requires: Sequence[str] = ()
    seed: Callable[[SeedContext], list[str]] | None = None
    #: ``"package.cli:add_commands"``, a function that adds ``ecommerce <name> ...`` sub-commands to the CLI;
    #: a string like ``blueprint``, so importing the module never imports its command-line code.
    cli: str | None = None
    jobs: Sequence[Job] = ()
    #: The frozen dataclass of the module's own settings (fields declared with ``module_settings.setting``),
    #: read from ``ECOMMERCE_<MODULE>_<FIELD>`` and the config file's ``[<module>]`` table.
    settings: type | None = None
    #: Called once the databases are bound, with the module's settings and the kernel's services
    #: (:class:`ModuleContext`): the one way a module is wired.
    setup: Callable[[ModuleContext[Any]], None] | None = None
    #: The importable path of the module's facade (``ecommerce.modules.catalog.api``) when it has
    #: functions other services may call (``@remotable``): imported at start-up on both sides.
    facade: str | None = None
    #: Called instead of ``setup`` in a process where this module is remote (hosted by another service
    #: of the layout): e.g. users hands the kernel its remote token check.
    remote_setup: Callable[[ModuleContext[Any]], None] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: The roles of the module anatomy (``ecommerce.kernel.anatomy.ROLES``) this module has no file for, each
    #: with the reason: ``{"events": "publishes no integration events"}``. A missing role not named here is
    #: an error of the anatomy check, so a gap is a decision written down, not a convention.
    lacks: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.events.module != self.name or self.events.database is not self.database:
            raise ValueError(f"module {self.name!r}: its EventTables must be EventTables({self.name!r}, database)")
        # A module's models live in its database: bound here, once, rather than by a Meta in every models.py.
        for model in self.models:
            if model._meta.database is None:
                model._meta.set_database(self.database)
            elif model._meta.database is not self.database:
                raise ValueError(f"module {self.name!r}: its model {model.__name__} is bound to another database")

    @classmethod
    def of(cls, package: str, *, description: str, **particular: Any) -> Module:
        """The module of ``package`` (pass ``__name__``), its conventional entries read from the anatomy's files
        so that its ``__init__`` declares only what is particular to it (``publishes``, ``requires``, ``jobs``,
        ``seed``, ``facade``, ``lacks``...; an entry given here wins over the derived one):

        - ``name``: the package's last name; ``events.py``: ``publishes``, the integration events it defines, in
          their order there; ``models.py``: its ``database``, ``events`` and ``MODELS``
          (without it, a database of its own that owns no tables); ``migrations/``: the folder;
        - ``http.py``: ``blueprint="<package>.http:build_blueprint"``; ``cli.py``: ``cli="<package>.cli:add_commands"``;
        - ``reactions.py``: its ``SUBSCRIPTIONS``;
        - ``settings.py``: its ``setup``, its ``remote_setup`` if any, and its ``<Name>Settings`` class if any
          (``gift_cards``: ``GiftCardsSettings``).

        The package is being imported when this runs (from its ``__init__``): the role files it imports are
        the ones the ``__init__`` would import anyway.
        """
        folder = Path(str(sys.modules[package].__file__)).parent
        name = particular.pop("name", package.rpartition(".")[2])
        derived: dict[str, Any] = {}
        if (folder / "events.py").is_file():
            derived["publishes"] = _defined_events(f"{package}.events")
        if (folder / "models.py").is_file():
            models = importlib.import_module(f"{package}.models")
            derived.update(database=models.database, events=models.events, models=models.MODELS)
        else:
            derived["database"], derived["events"] = module_storage(name)
        if (folder / "migrations").is_dir():
            derived["migrations"] = folder / "migrations"
        if (folder / "http.py").is_file():
            derived["blueprint"] = f"{package}.http:build_blueprint"
        if (folder / "cli.py").is_file():
            derived["cli"] = f"{package}.cli:add_commands"
        if (folder / "reactions.py").is_file():
            derived["subscriptions"] = importlib.import_module(f"{package}.reactions").SUBSCRIPTIONS
        if (folder / "settings.py").is_file():
            settings = importlib.import_module(f"{package}.settings")
            derived.update(setup=settings.setup, remote_setup=getattr(settings, "remote_setup", None),
                           settings=getattr(settings, f"{name.title().replace('_', '')}Settings", None))
        return cls(name=name, description=description, **{**derived, **particular})

    def add_commands(self, sub: argparse._SubParsersAction[Any]) -> None:
        """Add this module's sub-commands (``cli``) to the ``ecommerce`` command, if it has any."""
        if self.cli is not None:
            load(self.cli)(sub)

    @property
    def tables(self) -> list[str]:
        return [m._meta.table_name for m in self.models]
