"""The two adapters of a remote facade, for the contract suites (tests/contract/test_*_facade.py).

``adapter`` is ``in-process`` (today's plain call) or ``http``: the same facade function, routed by
:func:`ecommerce.kernel.remote.facade.install` to a real live server hosting the module, with a real
service token. The assertions of a contract suite never know which one runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.remote import facade
from ecommerce.kernel.remote.client import HttpAdapter
from ecommerce.kernel.remote.tokens import ServiceTokens
from tests.support.live_server import LiveServer

ADAPTERS = ("in-process", "http")


@dataclass
class Facade:
    """Calls facade functions the way a caller in another module would (through the kernel's runner)."""

    kernel: Kernel
    adapter: str

    def __call__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.kernel.runner.call(function, *args, **kwargs)


@contextmanager
def routed(module: str, adapter: str, live: LiveServer, *, timeout: float = 5.0, retries: int = 1,
           before: tuple[str, ...] = ()) -> Iterator[Facade]:
    """``module``'s facade, called through ``adapter``; the HTTP one signs as a service named ``caller``
    for the live server's service (``Settings.service_name``). ``before``: URLs of other instances of that
    service, listed ahead of the live one."""
    kernel: Kernel = live.app.ctx.kernel
    if adapter == "in-process":
        yield Facade(kernel, adapter)
        return
    tokens = ServiceTokens(kernel.secret, "caller")
    http = HttpAdapter(module, kernel.settings.service_name, "|".join([*before, live.url]), tokens, timeout=timeout,
                       retries=retries)
    previous = facade.installed()
    facade.install({**previous, module: http})
    try:
        yield Facade(kernel, adapter)
    finally:
        facade.install(previous)
        http.close()
