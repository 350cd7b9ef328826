"""One compilation per distinct routing source in a test process.

Why: every time a router is finalized, sanic-routing renders the source of its ``find_route`` function,
then parses it with ``ast``, unparses it again (only to keep a readable copy for debugging) and compiles
it. The suite starts a live app for most tests, and every start finalizes the route router (a few hundred
routes: the API, their HEAD and OPTIONS twins) and the signal router: a profile of the HTTP tests counted
that parse-unparse-compile at about a tenth of a test process's CPU. The apps of one process publish the same
routes, so their sources are equal, and the code compiled from equal source is equal: it is compiled once
and each router executes it into a namespace of its own, exactly as the library does. The source is
still rendered per router (that step reads the router's own routes), so a router with other routes gets
other code. ``ecommerce serve`` builds one app per worker process and is left as it is.
"""

from __future__ import annotations

import functools
from types import CodeType
from typing import Any

import sanic_routing.router as routing


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> CodeType:
    code: CodeType = compile(source, "", "exec")
    return code


def compile_each_routing_source_once() -> None:
    """Make ``BaseRouter._render`` reuse the code of a source it compiled before (idempotent)."""
    render = routing.BaseRouter._render
    if getattr(render, "compiles_once", False):
        return

    def _render(self: Any, do_compile: bool = True, do_optimize: bool = False) -> None:
        if not do_compile or do_optimize:  # optimizing rewrites the tree: the library's own path
            render(self, do_compile, do_optimize)
            return
        render(self, do_compile=False)  # the source of this router's routes, nothing compiled
        scope: dict[str, Any] = {}
        # The library executes the code with its module's globals (``re``, ``NotFound``, the casts that
        # ``register_pattern`` adds there), so does this.
        exec(_compiled(self.find_route_src), vars(routing), scope)
        self._find_route = scope["find_route"]
        self._matchers = scope.get("matchers")

    _render.compiles_once = True  # type: ignore[attr-defined]
    routing.BaseRouter._render = _render  # type: ignore[method-assign]
