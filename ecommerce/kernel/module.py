"""The module contract: everything a domain module hands the kernel, in one declarative object.

A module is a package that exposes ``module = Module(...)`` and is listed in the ``ecommerce.modules``
entry-point group. The kernel needs nothing else: it binds the database, runs the migrations, mounts
the blueprint under ``/api/v1``, routes events to subscriptions and calls the seeder.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import DatabaseProxy, Model

from ecommerce.kernel.events import EventTables, IntegrationEvent, Subscription

if TYPE_CHECKING:
    from ecommerce.kernel.bootstrap import Kernel


def load(reference: str) -> Any:
    """What ``"package.module:attribute"`` names, imported now (``blueprint`` and ``cli`` are such strings)."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class SeedContext:
    """What a seeder gets: the kernel (for other modules' facades) and how much to make."""

    kernel: Kernel
    scale: int = 1
    demo: bool = True


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
    #: Called once the databases are bound (register hooks, warm caches...).
    setup: Callable[[Kernel], None] | None = None
    #: The importable path of the module's facade (``ecommerce.modules.catalog.api``) when it has
    #: functions other services may call (``@remotable``): imported at start-up on both sides.
    facade: str | None = None
    #: Called instead of ``setup`` in a process where this module is remote (hosted by another service
    #: of the layout): e.g. users hands the kernel its remote token check.
    remote_setup: Callable[[Kernel], None] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: The roles of the module anatomy (``ecommerce.kernel.anatomy.ROLES``) this module has no file for, each
    #: with the reason: ``{"events": "publishes no integration events"}``. A missing role not named here is
    #: an error of the anatomy check, so a gap is a decision written down, not a convention.
    lacks: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.events.module != self.name or self.events.database is not self.database:
            raise ValueError(f"module {self.name!r}: its EventTables must be EventTables({self.name!r}, database)")

    def add_commands(self, sub: argparse._SubParsersAction[Any]) -> None:
        """Add this module's sub-commands (``cli``) to the ``ecommerce`` command, if it has any."""
        if self.cli is not None:
            load(self.cli)(sub)

    @property
    def tables(self) -> list[str]:
        return [m._meta.table_name for m in self.models]
