"""Stock held for an order is bounded by the order's deadline, end to end over real HTTP (issue 14).

A payment relayed after the catalog's sweep gave the held units back either takes them again or, when
they were sold meanwhile, cancels the order and refunds it through the real payments module.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest

from ecommerce.kernel.clock import utcnow
from ecommerce.modules.catalog import reservations
from tests.support.catalog import stocked
from tests.support.orders import ADDRESS
from tests.support.shop import Shop

#: Events cross modules here: these tests also run with the RabbitMQ transport.
pytestmark = pytest.mark.events

CVC = "7391"
GOOD = "4242 4242 4242 4242"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def buy(shop: Shop, product_id: int, quantity: int) -> tuple[dict[str, str], dict[str, Any]]:
    """A new customer orders ``quantity`` units: (their headers, the order)."""
    _, tokens = shop.account()
    headers = shop.headers(tokens)
    address = shop.client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=headers).json()
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": quantity}, headers=headers)
    placed = shop.client.post("/api/v1/orders", json={"address_id": address["id"]}, headers={**headers, **key()})
    assert placed.status_code == 201, placed.text
    return headers, placed.json()


def pay(shop: Shop, headers: dict[str, str], order_id: int) -> dict[str, Any]:
    card = shop.client.post("/api/v1/payments/tokens", headers=headers, json={
        "card_number": GOOD, "exp_month": 12, "exp_year": 2035, "cvc": CVC, "holder_name": "Ada Lovelace"}).json()
    paid = shop.client.post("/api/v1/payments", json={"order_id": order_id, "token_id": card["id"], "cvc": CVC},
                            headers={**headers, **key()})
    assert paid.status_code == 201, paid.text
    body: dict[str, Any] = paid.json()
    return body


def available(shop: Shop, product_id: int) -> int:
    return int(shop.client.get(f"/api/v1/products/{product_id}").json()["availability"]["total"])


def test_a_late_payment_for_units_sold_meanwhile_is_refunded_and_nothing_oversold(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 2, price=1500)
    headers, late = buy(shop, product_id, 2)
    payment = pay(shop, headers, late["id"])  # charged; PaymentSucceeded waits in the outbox (relay delay)
    assert payment["status"] == "succeeded"
    # The deadline passes before the relay delivers: the sweep gives the units back, someone buys them.
    assert shop.kernel.runner.call(reservations.expire_due, utcnow() + datetime.timedelta(hours=1)) == 1
    buy(shop, product_id, 2)
    shop.kernel.relay_until_idle()
    order = shop.client.get(f"/api/v1/orders/{late['id']}", headers=headers).json()
    assert (order["order_status"], order["payment_status"]) == ("cancelled", "refunded")
    refunded = shop.client.get(f"/api/v1/payments/{payment['id']}", headers=headers).json()
    assert refunded["refunded_amount"] == refunded["amount"] == 3000
    assert available(shop, product_id) == 0  # the other order holds both units; none sold twice


def test_a_late_payment_takes_its_units_again_when_they_are_still_there(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 5)
    headers, late = buy(shop, product_id, 2)
    pay(shop, headers, late["id"])
    assert shop.kernel.runner.call(reservations.expire_due, utcnow() + datetime.timedelta(hours=1)) == 1
    shop.kernel.relay_until_idle()
    order = shop.client.get(f"/api/v1/orders/{late['id']}", headers=headers).json()
    assert (order["order_status"], order["payment_status"]) == ("paid", "paid")
    assert available(shop, product_id) == 3
