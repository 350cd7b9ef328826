"""The module anatomy: the files every module has, one per role, and the check that a module follows it.

Why: a newcomer who has read one module should find the same things in the same files of the next one.
A module without some role (a read model publishes no events, the storefront owns no tables) says so in
its ``Module(lacks={role: why})``; the check fails on a role that is neither there nor declared missing,
on a declared gap that is in fact filled, and on a gap the module object contradicts (no ``http.py`` but
a ``blueprint``). Pure Python over the files and the ``Module`` object: it imports no module's code
beyond what its entry point already loaded.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from ecommerce.kernel.module import Module


@dataclass(frozen=True)
class Role:
    """One file or folder every module has, by the job it does: the docs list them (the anatomy page) and
    :func:`check` reports a module where it is neither present nor declared missing in ``Module(lacks=...)``."""

    name: str
    #: The file (``api.py``) or folder (``migrations/``) that plays the role.
    path: str
    #: What the file holds, as the docs print it.
    holds: str
    #: What a module that lacks the role must not declare in its ``Module`` (the field's name), if anything.
    declared_as: str | None = None


ROLES: tuple[Role, ...] = (
    Role("api", "api.py", "the facade: plain synchronous functions and frozen dataclasses that other modules, "
         "scripts and jobs may call", "facade"),
    Role("events", "events.py", "the integration events it publishes (frozen dataclasses, versioned names)",
         "publishes"),
    Role("models", "models.py", "its peewee models, its `DatabaseProxy` and its outbox and inbox (private)",
         "models"),
    Role("migrations", "migrations/", "numbered scripts `NNNN_name.py` with `up(migrator, db)`", "migrations"),
    Role("reactions", "reactions.py", "its subscriptions to events (`SUBSCRIPTIONS`) and their handlers",
         "subscriptions"),
    Role("http", "http.py", "the Sanic blueprint: the only file that imports Sanic", "blueprint"),
    Role("settings", "settings.py", "its settings (the `<Name>Settings` class, read from "
         "`ECOMMERCE_<MODULE>_*`), its `setup` and what the setup keeps", "settings"),
    Role("cli", "cli.py", "its `ecommerce <module> ...` sub-commands", "cli"),
    Role("schemas", "schemas.py", "request and response shapes (pydantic, on `ApiModel`)"),
)
ROLE_NAMES = tuple(role.name for role in ROLES)
#: Names that say where code sits, not what it does: use cases are named by what they do
#: (``checkout.py``, ``refunds.py``), so no module has a file called one of these.
VAGUE_NAMES = frozenset({"service", "services", "config", "utils", "util", "helpers", "common", "misc",
                         "manager", "lib", "stuff"})


def _filled(package: Path, role: Role) -> bool:
    if role.path.endswith("/"):
        return (package / role.path).is_dir()
    return (package / role.path).is_file()


def _declares(module: Module, field: str) -> bool:
    value = getattr(module, field)
    return bool(value) if isinstance(value, (list, tuple, dict)) else value is not None


def check(module: Module, package: Path) -> list[str]:
    """Every way ``module`` (whose package is the folder ``package``) breaks the anatomy; [] when it follows it."""
    problems = [f"{module.name}: lacks names {role!r}, which is no role (roles: {', '.join(ROLE_NAMES)})"
                for role in module.lacks if role not in ROLE_NAMES]
    for role in ROLES:
        why = module.lacks.get(role.name)
        filled = _filled(package, role)
        if not filled and why is None:
            problems.append(f"{module.name}: no {role.path} ({role.name}) and no lacks[{role.name!r}] "
                            "saying why")
        elif filled and why is not None:
            problems.append(f"{module.name}: declares it lacks {role.name} but has {role.path}")
        elif why is not None and not why.strip():
            problems.append(f"{module.name}: lacks[{role.name!r}] gives no reason")
        elif why is not None and role.declared_as and _declares(module, role.declared_as):
            problems.append(f"{module.name}: lacks {role.name} but its Module declares {role.declared_as}")
    for subscription in module.subscriptions if "reactions" not in module.lacks else ():
        where = getattr(subscription.handler, "__module__", "")
        if where != f"{package.name}.reactions" and not where.endswith(f".{package.name}.reactions"):
            problems.append(f"{module.name}: the handler of {subscription.handler_name!r} is in {where}, "
                            "not in reactions.py")
    problems += [f"{module.name}: {path.name} says where code sits, not what it does; name it by its content"
                 for path in sorted(package.glob("*.py")) if path.stem in VAGUE_NAMES]
    return problems


def installed(group: str = "ecommerce.modules") -> dict[str, tuple[Module, Path]]:
    """Every module of the entry-point group with the folder of the package that defines it."""
    found: dict[str, tuple[Module, Path]] = {}
    for point in entry_points(group=group):
        module = point.load()
        file = importlib.import_module(point.module).__file__
        if isinstance(module, Module) and file is not None:
            found[module.name] = (module, Path(file).parent)
    return found


def check_installed() -> list[str]:
    """The anatomy problems of every installed module."""
    return [problem for module, package in installed().values() for problem in check(module, package)]


def other_files(package: Path) -> list[str]:
    """The module's files that play no role: its use cases and helpers, named by what they do."""
    roles = {role.path.rstrip("/") for role in ROLES} | {"__init__.py", "__pycache__"}
    return sorted(f"{p.name}/" if p.is_dir() else p.name for p in package.iterdir()
                  if p.name not in roles and (p.is_dir() or p.suffix == ".py"))
