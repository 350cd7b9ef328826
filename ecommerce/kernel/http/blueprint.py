"""The blueprint every module's ``http.py`` (and the kernel's own routes) are declared on."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint as SanicBlueprint


class Blueprint(SanicBlueprint):
    """Sanic's blueprint, whose routes state their error format instead of having Sanic guess it.

    Why: for a route declared without ``error_format``, Sanic reads the handler's source and parses it
    (``inspect.getsource``, ``ast.parse``) to guess whether its errors should be JSON, HTML or text. That
    guess was half the time it takes to build the app (every worker of ``ecommerce serve`` builds one, and
    every test with a server), and nothing uses it: :class:`~ecommerce.kernel.http.problems.ProblemErrorHandler`
    answers every failure itself, as problem details or as a site module's HTML page.
    """

    def route(self, uri: str, *args: Any, error_format: str | None = None, **kwargs: Any) -> Any:
        return super().route(uri, *args, error_format=error_format or "json", **kwargs)
