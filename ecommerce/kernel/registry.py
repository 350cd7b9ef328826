"""Find modules through the ``ecommerce.modules`` entry-point group and apply enable/disable settings.

Why entry points: a separate distribution can plug a module in by declaring one line in its own
packaging metadata, without editing this repository.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib.metadata import entry_points

from ecommerce.kernel.module import Module
from ecommerce.kernel.settings import Settings, SettingsError

GROUP = "ecommerce.modules"


def discover() -> dict[str, Module]:
    """Every installed module, enabled or not, by name (a new dict each call: the caller may change it)."""
    return dict(_installed())


@functools.cache
def _installed() -> tuple[tuple[str, Module], ...]:
    """The entry points, read once per process.

    Why once: ``entry_points()`` reads the metadata of every installed distribution (a hundred folders
    here), and a command called it three times (its sub-commands, the settings check, the kernel), a
    test process once per kernel it built. What is installed changes only when a process starts again.
    """
    found: dict[str, Module] = {}
    for ep in entry_points(group=GROUP):
        module = ep.load()
        if not isinstance(module, Module):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not an ecommerce Module")
        if module.name != ep.name:
            raise TypeError(f"entry point {ep.name} loads a module named {module.name!r}")
        found[module.name] = module
    return tuple(found.items())


class Registry:
    """The enabled modules of one application, in dependency order."""

    def __init__(self, modules: dict[str, Module], settings: Settings) -> None:
        for variable, names in (("ECOMMERCE_MODULES", settings.modules or ()),
                                ("ECOMMERCE_DISABLED_MODULES", settings.disabled_modules)):
            unknown = sorted(set(names) - set(modules))
            if unknown:
                raise SettingsError(
                    f"{variable}: unknown module(s) {', '.join(unknown)} (installed: {', '.join(sorted(modules))})"
                )
        enabled = {name: m for name, m in modules.items() if settings.module_enabled(name)}
        for module in enabled.values():
            missing = [dep for dep in module.requires if dep not in enabled and dep not in settings.remote_modules]
            if missing:
                raise SettingsError(
                    f"ECOMMERCE_MODULES: module {module.name!r} needs {', '.join(missing)}, which is disabled"
                )
        self.available = modules
        self._modules = self._ordered(enabled)

    @staticmethod
    def _ordered(enabled: dict[str, Module]) -> dict[str, Module]:
        ordered: dict[str, Module] = {}

        def visit(module: Module) -> None:
            if module.name in ordered:
                return
            for dep in module.requires:
                if dep in enabled:  # else hosted by another service (remote facade)
                    visit(enabled[dep])
            ordered[module.name] = module

        for module in sorted(enabled.values(), key=lambda m: m.name):
            visit(module)
        return ordered

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __contains__(self, name: object) -> bool:
        return name in self._modules

    def __getitem__(self, name: str) -> Module:
        return self._modules[name]

    def names(self) -> list[str]:
        return list(self._modules)
