"""The notifications facade's contract: the same assertions in-process and over HTTP (a live
notifications service).

What a page or a script on another service relies on: a user's unread count and newest notifications as
the same plain dicts ``GET /notifications`` shows, the page size kept from 1 to 100, nothing (not an
error) for a user with no notifications, and the store being down arriving as the same
``ServiceUnavailable`` (the callee's own outage, not the remote adapter's "service unavailable").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ecommerce.kernel.errors import ServiceUnavailable
from ecommerce.kernel.remote.client import RemoteUnavailable
from ecommerce.modules.notifications import api as notifications
from tests.support.api import CARD, post, signed_in
from tests.support.catalog import stocked
from tests.support.live_server import LiveServer
from tests.support.orders import ADDRESS
from tests.support.processes import free_port
from tests.support.remote import ADAPTERS, Facade, routed

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

FEED = "/api/v1/notifications"


@pytest.fixture(params=ADAPTERS)
def call(request: pytest.FixtureRequest, live: LiveServer) -> Iterator[Facade]:
    with routed("notifications", request.param, live) as facade:
        yield facade


def feed(client: httpx.Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(FEED, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def paying_customer(client: httpx.Client, call: Facade) -> tuple[int, dict[str, str]]:
    """A customer who registers, checks out and pays over the public API; once the relay has delivered
    the events they have three notifications: welcome, order placed, payment received."""
    user, headers = signed_in(client)
    product_id, _ = stocked(call.kernel, 5, price=2500)
    address = post(client, "/api/v1/users/me/addresses", ADDRESS, headers)["id"]
    card = post(client, "/api/v1/payments/tokens", CARD, headers)["id"]
    post(client, "/api/v1/cart/items", {"product_id": product_id, "quantity": 1}, headers)
    order = post(client, "/api/v1/orders", {"address_id": address}, headers)["id"]
    assert post(client, "/api/v1/payments", {"order_id": order, "token_id": card, "cvc": "123"},
                headers)["status"] == "succeeded"
    call.kernel.relay_until_idle()
    return int(user["id"]), headers


def test_recent_and_unread_count_show_what_the_feed_shows(call: Facade, client: httpx.Client) -> None:
    user_id, headers = paying_customer(client, call)
    assert call(notifications.unread_count, user_id) == 3
    recent = call(notifications.recent, user_id)
    assert isinstance(recent, list) and all(isinstance(item, dict) for item in recent)
    assert [item["template"] for item in recent] == ["payment_succeeded", "order_placed", "welcome"]
    assert recent == feed(client, headers)["items"]
    assert all(isinstance(item["created_at"], str) and item["read"] is False for item in recent)


def test_reading_one_lowers_the_count(call: Facade, client: httpx.Client) -> None:
    user_id, headers = paying_customer(client, call)
    newest = call(notifications.recent, user_id, 1)
    read = post(client, f"{FEED}/{newest[0]['id']}/read", {}, headers)
    assert read["read"] is True
    assert call(notifications.unread_count, user_id) == 2 == feed(client, headers)["unread"]
    again = call(notifications.recent, user_id, 1)
    assert again == [read] and again[0]["read_at"] is not None


def test_the_limit_is_kept_from_one_to_a_hundred(call: Facade, client: httpx.Client) -> None:
    user_id, _ = paying_customer(client, call)
    everything = call(notifications.recent, user_id, 100)
    assert len(everything) == 3
    assert call(notifications.recent, user_id, 2) == everything[:2]
    assert call(notifications.recent, user_id, 0) == everything[:1]  # raised to 1, not an error
    assert call(notifications.recent, user_id, -5) == everything[:1]
    assert call(notifications.recent, user_id, 10_000) == everything  # capped at 100, not an error


def test_a_user_with_nothing_gets_nothing_not_an_error(call: Facade, client: httpx.Client) -> None:
    assert call(notifications.unread_count, 999_999) == 0
    assert call(notifications.recent, 999_999) == []
    user, _ = signed_in(client)  # registered, but the welcome is not relayed yet
    assert call(notifications.unread_count, user["id"]) == 0 and call(notifications.recent, user["id"]) == []
    call.kernel.relay_until_idle()
    assert call(notifications.unread_count, user["id"]) == 1
    assert [item["template"] for item in call(notifications.recent, user["id"])] == ["welcome"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_store_down_arrives_as_the_same_service_unavailable(adapter: str, app_factory: Any) -> None:
    """Redis holding the documents is down: the notifications service answers 503 with a facade error
    body, which the caller raises as the callee's own ``ServiceUnavailable`` (not retried, not turned into
    the adapter's ``RemoteUnavailable``)."""
    server = LiveServer(app_factory(redis_url=f"redis://127.0.0.1:{free_port()}/0")).start()  # nothing listens
    try:
        with routed("notifications", adapter, server, retries=0) as call:
            for function in (notifications.unread_count, notifications.recent):
                with pytest.raises(ServiceUnavailable) as caught:
                    call(function, 1)
                assert type(caught.value) is ServiceUnavailable and not isinstance(caught.value, RemoteUnavailable)
                assert caught.value.status == 503 and "notification store is unavailable" in caught.value.detail
    finally:
        server.stop()
