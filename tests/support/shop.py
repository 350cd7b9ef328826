"""A live app whose kernel tests can reach into (fixtures ``shop`` and ``shop_factory``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ecommerce.kernel.bootstrap import Kernel
from tests.support.api import bearer, login, register
from tests.support.live_server import LiveServer


@dataclass
class Shop:
    """A running app: its URL, an HTTP client and the kernel behind it."""

    server: LiveServer
    client: httpx.Client
    kernel: Kernel

    def account(self, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new user and its login (tokens)."""
        user = register(self.client, **extra)
        return user, login(self.client, user["email"])

    def headers(self, tokens: dict[str, Any]) -> dict[str, str]:
        return bearer(tokens["access_token"])


@pytest.fixture
def shop_factory(app_factory: Any) -> Iterator[Any]:
    started: list[tuple[LiveServer, httpx.Client]] = []

    def start(**overrides: Any) -> Shop:
        app = app_factory(**overrides)
        server = LiveServer(app).start()
        client = httpx.Client(base_url=server.url, timeout=30)
        started.append((server, client))
        return Shop(server, client, app.ctx.kernel)

    yield start
    for server, client in started:
        client.close()
        server.stop()


@pytest.fixture
def shop(shop_factory: Any) -> Shop:
    result: Shop = shop_factory()
    return result
