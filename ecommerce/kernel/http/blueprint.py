"""The blueprint every module's ``http.py`` (and the kernel's own routes) are declared on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sanic import Blueprint as SanicBlueprint


class DeclarationOrder(set[Any]):
    """A set that iterates in the order its items were added.

    Why: Sanic keeps a blueprint's routes in a plain set of tuples that hold the handler, so each process
    registered them in another order (the handlers' addresses differ), and the published OpenAPI document
    listed its paths and tags in another order every time the app started: Swagger UI and the docs site's
    API reference reshuffled, and two builds of the same code never compared equal."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__()
        self._order: dict[Any, None] = {}
        for item in items:
            self.add(item)

    def add(self, item: Any) -> None:
        super().add(item)
        self._order.setdefault(item, None)

    def __iter__(self) -> Iterator[Any]:
        return iter([item for item in self._order if item in self])


class Blueprint(SanicBlueprint):
    """Sanic's blueprint, whose routes state their error format instead of having Sanic guess it, and are
    registered in the order they are declared.

    Why the error format: for a route declared without ``error_format``, Sanic reads the handler's source and
    parses it (``inspect.getsource``, ``ast.parse``) to guess whether its errors should be JSON, HTML or text.
    That guess was half the time it takes to build the app (every worker of ``ecommerce serve`` builds one,
    and every test with a server), and nothing uses it:
    :class:`~ecommerce.kernel.http.problems.ProblemErrorHandler` answers every failure itself, as problem
    details or as a site module's HTML page. Why the order: :class:`DeclarationOrder`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._future_routes = DeclarationOrder()

    def route(self, uri: str, *args: Any, error_format: str | None = None, **kwargs: Any) -> Any:
        return super().route(uri, *args, error_format=error_format or "json", **kwargs)
