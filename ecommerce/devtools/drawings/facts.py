"""What the drawings are made of, read from the code: modules from the ``ecommerce.modules`` entry points,
who publishes and who consumes each event, the import graph between packages (grimp, the library behind
import-linter), and the peewee models of each module."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from peewee import ForeignKeyField, Model

from ecommerce.kernel.module import Module
from ecommerce.kernel.registry import discover


@dataclass(frozen=True)
class EventFlow:
    """One event key from its publisher to one consuming module (``atomic`` as its subscription says)."""

    event: str
    publisher: str
    consumer: str
    handler: str
    atomic: bool


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    primary_key: bool = False
    nullable: bool = False
    unique: bool = False
    indexed: bool = False
    references: str | None = None  # a table of the same module (a real foreign key)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    model: str


@dataclass(frozen=True)
class Facts:
    modules: dict[str, Module]
    flows: tuple[EventFlow, ...]
    #: (importer group, imported group) -> the imported packages' last parts ("api", "events", ...)
    imports: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def tables(self, module: str) -> list[Table]:
        return [table_of(model) for model in self.modules[module].models]

    def owner_of(self, table: str) -> str | None:
        for name, module in self.modules.items():
            if table in module.tables:
                return name
        return None

    def consumed_by(self, module: str) -> list[EventFlow]:
        return [f for f in self.flows if f.consumer == module]

    def published_by(self, module: str) -> list[EventFlow]:
        return [f for f in self.flows if f.publisher == module]


def table_of(model: type[Model]) -> Table:
    meta = model._meta
    columns = []
    for f in meta.sorted_fields:
        references = f.rel_model._meta.table_name if isinstance(f, ForeignKeyField) else None
        columns.append(Column(
            name=f.column_name, type=type(f).__name__.removesuffix("Field") or "Field",
            primary_key=bool(f.primary_key), nullable=bool(f.null), unique=bool(f.unique),
            indexed=bool(f.index) or isinstance(f, ForeignKeyField), references=references,
        ))
    return Table(meta.table_name, tuple(columns), f"{model.__module__}.{model.__qualname__}")


def event_flows(modules: dict[str, Module]) -> tuple[EventFlow, ...]:
    publishers = {event.key(): name for name, m in modules.items() for event in m.publishes}
    flows = []
    for name in sorted(modules):
        for sub in modules[name].subscriptions:
            key = sub.event.key()
            publisher = publishers.get(key, key.split(".", 1)[0])
            flows.append(EventFlow(key, publisher, name, sub.handler_name, sub.atomic))
    return tuple(sorted(flows, key=lambda f: (f.publisher, f.event, f.consumer, f.handler)))


def group_of(package: str, modules: dict[str, Module]) -> str | None:
    """The box a package belongs to in the dependency drawing: a module's name, ``kernel``, ``app``,
    ``cli``; None for the developer tools (they read everything on purpose) and the package root."""
    parts = package.split(".")
    if parts[:2] == ["ecommerce", "modules"] and len(parts) > 2:
        return parts[2] if parts[2] in modules else None
    if len(parts) > 1 and parts[1] in ("kernel", "app", "cli"):
        return parts[1]
    return None


def import_graph(modules: dict[str, Module]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Who imports whom between the groups, and which of the imported group's packages they use."""
    import grimp

    graph = grimp.build_graph("ecommerce")
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for importer in graph.modules:
        source = group_of(importer, modules)
        if source is None:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            target = group_of(imported, modules)
            if target is None or target == source:
                continue
            if target not in modules:
                found[(source, target)].add(target)
            else:
                found[(source, target)].add(imported.removeprefix(f"ecommerce.modules.{target}").lstrip(".")
                                            or "__init__")
    return {pair: tuple(sorted(parts)) for pair, parts in sorted(found.items())}


@cache
def collect() -> Facts:
    modules = dict(sorted(discover().items()))
    return Facts(modules, event_flows(modules), import_graph(modules))
