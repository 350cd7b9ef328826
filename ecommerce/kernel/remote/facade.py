"""Remotable facade functions: the same call in-process or over HTTP, chosen at start-up from the layout.

A module's ``api`` marks the functions other services may call::

    @remotable("catalog", idempotent=True)
    def snapshot(product_ids: Sequence[int]) -> dict[int, ProductSnapshot]: ...

The decorated function keeps its name, signature and docstring. When the kernel starts a process that
does not host ``catalog`` (``Settings.remote_modules`` names where it lives), it installs an HTTP adapter
for ``catalog``; every call then goes to ``POST /internal/catalog/snapshot`` on that service. Otherwise
the call is today's plain function call (the in-process adapter), costing one dictionary lookup.

``idempotent`` says whether a call may be repeated after a timeout or a dropped connection: reads are;
so is anything keyed by the caller (``reserve`` per reference). Only those are retried.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Remotable:
    module: str
    name: str
    function: Callable[..., Any]  # the in-process implementation
    idempotent: bool


class Adapter(Protocol):
    """Where the calls of one remote module go (the HTTP adapter; tests may pass another)."""

    def call(self, spec: Remotable, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...


#: Every remotable function, by module then name (filled as ``api`` modules are imported).
REMOTABLES: dict[str, dict[str, Remotable]] = {}
_adapters: dict[str, Adapter] = {}
#: Set in the thread running a call that arrived over HTTP: whatever it calls runs here (it is the host).
_serving = threading.local()


def remotable(module: str, *, idempotent: bool) -> Callable[[F], F]:
    """Mark a facade function as callable from another service (see the module docstring)."""

    def mark(function: F) -> F:
        if hasattr(function, "remotable"):
            raise TypeError(f"{module}.{function.__name__} is marked @remotable twice")
        spec = Remotable(module, function.__name__, function, idempotent)
        REMOTABLES.setdefault(module, {})[spec.name] = spec

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            adapter = _adapters.get(module)
            if adapter is None or getattr(_serving, "active", False):
                return function(*args, **kwargs)
            return adapter.call(spec, args, kwargs)

        call.remotable = spec  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return mark


def is_remote(module: str) -> bool:
    """Whether ``module``'s facade calls leave this process (never inside a call served for another)."""
    return module in _adapters and not getattr(_serving, "active", False)


def serve(spec: Remotable, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run a call that arrived from another service, here: the host of the module never forwards it
    (nor the facade calls it makes), even in a test process that also routes the module elsewhere."""
    _serving.active = True
    try:
        return spec.function(*args, **kwargs)
    finally:
        _serving.active = False


def install(adapters: Mapping[str, Adapter]) -> None:
    """Route the named modules' facade calls to these adapters (the kernel does this at start-up)."""
    _adapters.clear()
    _adapters.update(adapters)


def installed() -> dict[str, Adapter]:
    return dict(_adapters)


def lookup(module: str, name: str) -> Remotable | None:
    return REMOTABLES.get(module, {}).get(name)
