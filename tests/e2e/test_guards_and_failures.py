"""The authentication guards any module can use, and what an unexpected failure looks like."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from sanic import HTTPResponse, Request
from sanic import json as json_response

from ecommerce.kernel.http import admin_only, authenticated, principal
from ecommerce.kernel.logging import JsonFormatter, request_id
from ecommerce.modules.users.models import User
from tests.support.api import assert_problem, bearer, login, register
from tests.support.live_server import LiveServer


@pytest.fixture
def guarded(app_factory: object) -> Iterator[tuple[httpx.Client, object]]:
    app = app_factory()  # type: ignore[operator]

    @authenticated
    async def mine(request: Request) -> HTTPResponse:
        return json_response({"user_id": principal(request).user_id})

    @admin_only
    async def admin(request: Request) -> HTTPResponse:
        return json_response({"ok": True})

    async def broken(request: Request) -> HTTPResponse:
        raise ZeroDivisionError("secret internal detail")

    app.add_route(mine, "/test/mine")
    app.add_route(admin, "/test/admin")
    app.add_route(broken, "/test/broken")
    server = LiveServer(app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client, app
    finally:
        server.stop()


def test_authenticated_and_admin_only(guarded: tuple[httpx.Client, object]) -> None:
    client, app = guarded
    customer = register(client)
    headers = bearer(login(client, customer["email"])["access_token"])
    assert client.get("/test/mine", headers=headers).json() == {"user_id": customer["id"]}
    assert_problem(client.get("/test/mine"), 401)
    assert_problem(client.get("/test/admin", headers=headers), 403)
    assert_problem(client.get("/test/admin"), 401)

    boss = register(client)
    kernel = app.ctx.kernel  # type: ignore[attr-defined]
    kernel.runner.call(lambda: User.update(role="admin").where(User.id == boss["id"]).execute())
    admin_headers = bearer(login(client, boss["email"])["access_token"])
    assert client.get("/test/admin", headers=admin_headers).json() == {"ok": True}


def test_unexpected_error_is_a_500_problem_without_internals(guarded: tuple[httpx.Client, object]) -> None:
    client, _ = guarded
    response = client.get("/test/broken", headers={"X-Request-ID": "boom-1"})
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.text
    assert "ZeroDivisionError" not in response.text
    assert "request id" in body["detail"]
    assert response.headers["x-request-id"] == "boom-1"


def test_json_log_lines_carry_the_request_id() -> None:
    token = request_id.set("req-42")
    try:
        record = logging.LogRecord("ecommerce.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        record.route = "/x"
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "hello world" and line["level"] == "info"
    assert line["request_id"] == "req-42" and line["route"] == "/x"
