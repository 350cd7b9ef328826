"""The test processes compile each routing source once (``tests/support/routing.py``): routers with the
same routes share the compiled code, and each still finds its own handlers; other routes get other code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sanic.exceptions import NotFound
from sanic.router import Router

from tests.support.routing import compile_each_routing_source_once


def _router(paths: dict[str, Callable[..., object]]) -> Router:
    router = Router()
    for path, handler in paths.items():
        router.add(path, ["GET"], handler, name=f"r{abs(hash(path))}")
    router.finalize()
    return router


def _handler_of(router: Router, path: str) -> object:
    _route, handler, params = router.get(path, "GET", None)
    return handler, params


def test_routers_with_the_same_routes_share_code_and_keep_their_own_handlers() -> None:
    compile_each_routing_source_once()  # as conftest.py does; idempotent
    def first(*_: object) -> str: return "first"
    def second(*_: object) -> str: return "second"
    paths = ["/api/v1/products", "/api/v1/products/<product_id:int>", "/files/<name:slug>", r"/re/<code:[A-Z]{3}>"]
    one = _router(dict.fromkeys(paths, first))
    two = _router(dict.fromkeys(paths, second))
    assert one.find_route.__code__ is two.find_route.__code__  # compiled once
    assert _handler_of(one, "/api/v1/products/7") == (first, {"product_id": 7})
    assert _handler_of(two, "/api/v1/products/7") == (second, {"product_id": 7})
    assert _handler_of(two, "/files/a-b") == (second, {"name": "a-b"})
    assert _handler_of(one, "/re/EUR") == (first, {"code": "EUR"})  # a regex route: the router's own matchers
    with pytest.raises(NotFound):
        one.get("/re/eur", "GET", None)


def test_other_routes_get_other_code() -> None:
    compile_each_routing_source_once()
    def handler(*_: object) -> str: return "x"
    one = _router({"/a/<x:int>": handler})
    two = _router({"/a/<x:int>/b/<y:int>": handler})
    assert one.find_route.__code__ is not two.find_route.__code__
    assert _handler_of(two, "/a/1/b/2") == (handler, {"x": 1, "y": 2})
    with pytest.raises(NotFound):
        one.get("/a/1/b/2", "GET", None)
