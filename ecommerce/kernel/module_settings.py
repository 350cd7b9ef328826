"""A module's own settings: a frozen dataclass the module declares (``Module(settings=OrdersSettings)``),
read like the kernel's, with the kernel's validators and its one-line error.

Why here and not in ``Settings``: the kernel knows no module's knobs; each module declares its own and
gets them back, parsed, in its ``setup`` (``ModuleContext.settings``). A field ``order_ttl`` of the
``orders`` module is read from, first to last:

1. ``Settings.module_settings["orders"]["order_ttl"]`` (code: tests, scripts);
2. ``ECOMMERCE_ORDERS_ORDER_TTL``, then its older names (``ECOMMERCE_ORDER_TTL``), which keep working;
3. the config file's ``[orders]`` table (``order_ttl = 60``), then its older flat keys (``order_ttl = 60``);
4. the field's default.

A bad value stops the start with ``<where it came from>: <what is wrong>`` (``SettingsError``, exit 2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ecommerce.kernel.settings import PREFIX, Settings, SettingsError
from ecommerce.kernel.settings import _flag as flag
from ecommerce.kernel.settings import _number as number
from ecommerce.kernel.settings import _path as path
from ecommerce.kernel.settings import _text as text

__all__ = ["Setting", "flag", "number", "path", "read", "setting", "text", "unclaimed", "variables"]

T = TypeVar("T")
METADATA = "ecommerce.setting"


@dataclass(frozen=True)
class Setting:
    """How one field is read: its validator (one of the kernel's), its older variable names, and whether
    ``ecommerce config`` must hide its value."""

    parse: Callable[[str, Any], Any]
    legacy: tuple[str, ...] = ()
    secret: bool = False
    #: One line for ``docs/configuration.md`` and ``ecommerce config``.
    doc: str = ""


def setting(default: T, parse: Callable[[str, Any], Any], *, legacy: str | tuple[str, ...] = (),
            secret: bool = False, doc: str = "") -> T:
    """A field of a module's settings dataclass: ``order_ttl: int = setting(1800, number(int, 1, 86400))``."""
    names = (legacy,) if isinstance(legacy, str) else legacy
    spec = Setting(parse, names, secret, doc)
    found: T = field(default=default, metadata={METADATA: spec})
    return found


def _spec(item: dataclasses.Field[Any]) -> Setting:
    spec = item.metadata.get(METADATA)
    if not isinstance(spec, Setting):
        raise TypeError(f"{item.name}: a module setting is declared with setting(default, validator)")
    return spec


def variable(module: str, name: str) -> str:
    """``ECOMMERCE_ORDERS_ORDER_TTL``: the variable of a module's field."""
    return f"{PREFIX}{module.upper()}_{name.upper()}"


def _legacy_key(name: str) -> str:
    """The flat config-file key an older variable had (``ECOMMERCE_ORDER_TTL`` -> ``order_ttl``)."""
    return name.removeprefix(PREFIX).lower()


def _table(module: str, settings: Settings) -> Mapping[str, Any]:
    table = settings.config_rest.get(module, {})
    if not isinstance(table, dict):
        raise SettingsError(f"{settings.config_file}: [{module}] must be a table of the module's settings")
    return table


def read(module: str, cls: type[T], settings: Settings) -> T:
    """The module's settings instance, every field validated; ``SettingsError`` names the first bad one."""
    fields = {item.name: _spec(item) for item in dataclasses.fields(cls)}  # type: ignore[arg-type]
    given = settings.module_settings.get(module, {})
    for key in given:
        if key not in fields:
            raise SettingsError(f"module_settings[{module!r}]: unknown setting {key!r} "
                                f"(known: {', '.join(fields) or 'none'})")
    table = _table(module, settings)
    for key in table:
        if key not in fields:
            raise SettingsError(f"{settings.config_file}: [{module}] unknown setting {key!r} "
                                f"(known: {', '.join(fields) or 'none'})")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        found = _find(module, name, spec, settings, given, table)
        if found is not None:
            source, value = found
            values[name] = spec.parse(source, value)
    return cls(**values)


def _find(module: str, name: str, spec: Setting, settings: Settings, given: Mapping[str, Any],
          table: Mapping[str, Any]) -> tuple[str, Any] | None:
    if name in given:
        return f"module_settings[{module!r}][{name!r}]", given[name]
    for env_name in (variable(module, name), *spec.legacy):
        if env_name in settings.environ:
            return env_name, settings.environ[env_name]
    if name in table:
        return f"{settings.config_file}: {module}.{name}", table[name]
    for old in spec.legacy:
        key = _legacy_key(old)
        if key in settings.config_rest:
            return f"{settings.config_file}: {key}", settings.config_rest[key]
    return None


def unclaimed(settings: Settings, declared: Mapping[str, type | None]) -> list[str]:
    """Config-file keys no installed module reads (a typo, or a module that is not installed): each is
    an error, as an unknown kernel key always was. ``declared``: every installed module's settings class."""
    claimed = set()
    for module, cls in declared.items():
        claimed.add(module)
        for item in dataclasses.fields(cls) if cls is not None else ():
            claimed.update(_legacy_key(old) for old in _spec(item).legacy)
    return sorted(key for key in settings.config_rest if key not in claimed)


def check(settings: Settings, declared: Mapping[str, type | None],
          enabled: Iterable[str] | None = None) -> dict[str, Any]:
    """The start-up validation: refuse config-file keys no installed module reads, then read the settings
    of the ``enabled`` modules (default: every one in ``declared``), by module name."""
    unknown = unclaimed(settings, declared)
    if unknown:
        raise SettingsError(f"{settings.config_file}: unknown setting {unknown[0]!r}")
    wanted = set(declared) if enabled is None else set(enabled)
    return {module: read(module, cls, settings) for module, cls in declared.items()
            if cls is not None and module in wanted}


def variables(module: str, cls: type) -> Iterable[tuple[str, str, Any, Setting]]:
    """``(variable, field, default, spec)`` of every field, for ``ecommerce config`` and the docs."""
    for item in dataclasses.fields(cls):
        yield variable(module, item.name), item.name, item.default, _spec(item)
