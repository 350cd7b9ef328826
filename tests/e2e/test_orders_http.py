"""The checkout flow over real HTTP: cart, idempotent checkout, my orders, cancel, admin moves."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from ecommerce.modules.orders.models import Order
from ecommerce.modules.users import accounts as users_accounts
from tests.support.api import assert_problem, login
from tests.support.catalog import stocked
from tests.support.orders import ADDRESS
from tests.support.polling import eventually
from tests.support.shop import Shop

#: Events cross modules here: these tests also run with the RabbitMQ transport.
pytestmark = pytest.mark.events


def customer(shop: Shop) -> tuple[dict[str, str], int]:
    """Headers of a new customer and the id of their address."""
    _, tokens = shop.account()
    headers = shop.headers(tokens)
    address = shop.client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=headers).json()
    return headers, int(address["id"])


def checkout(shop: Shop, headers: dict[str, str], body: dict[str, Any], key: str | None = None) -> Any:
    keyed = {**headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return shop.client.post("/api/v1/orders", json=body, headers=keyed)


def test_register_fill_cart_and_check_out(shop: Shop) -> None:
    a, _ = stocked(shop.kernel, 10, price=1250)
    b, _ = stocked(shop.kernel, 5, price=399)
    headers, address_id = customer(shop)
    shop.client.post("/api/v1/cart/items", json={"product_id": a, "quantity": 2}, headers=headers)
    cart = shop.client.post("/api/v1/cart/items", json={"product_id": b, "quantity": 3}, headers=headers).json()
    assert cart["total"] == 2 * 1250 + 3 * 399 and cart["currency"] == "USD"
    assert [i["available"] for i in cart["items"]] == [True, True]

    placed = checkout(shop, headers, {"address_id": address_id, "total": 1, "items": [{"unit_price": 0}]})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["order_status"], order["payment_status"]) == ("pending_payment", "unpaid")
    assert order["total"] == 2 * 1250 + 3 * 399  # the client's "total" was ignored
    assert [(i["product_id"], i["quantity"], i["unit_price"]) for i in order["items"]] == [(a, 2, 1250), (b, 3, 399)]
    assert order["shipping_address"]["city"] == "Springfield"
    assert shop.client.get(f"/api/v1/products/{a}").json()["availability"]["total"] == 8  # reserved
    assert shop.client.get("/api/v1/cart", headers=headers).json()["items"] == []
    mine = shop.client.get("/api/v1/orders", headers=headers).json()
    assert [o["id"] for o in mine["items"]] == [order["id"]]
    assert shop.client.get(f"/api/v1/orders/{order['id']}", headers=headers).json() == order


def test_idempotent_checkout(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 10)
    headers, address_id = customer(shop)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers)
    key = uuid.uuid4().hex
    first = checkout(shop, headers, {"address_id": address_id}, key)
    again = checkout(shop, headers, {"address_id": address_id}, key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert_problem(checkout(shop, headers, {"address_id": address_id + 1000}, key), 422)
    assert_problem(shop.client.post("/api/v1/orders", json={"address_id": address_id}, headers=headers), 400)
    assert shop.kernel.runner.call(lambda: Order.select().count()) == 1


def test_ten_concurrent_checkouts_with_one_key_make_one_order(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 10)
    headers, address_id = customer(shop)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers)
    key = uuid.uuid4().hex
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def attempt() -> None:
        import httpx

        with httpx.Client(base_url=shop.server.url, timeout=30) as c:
            barrier.wait()
            response = c.post("/api/v1/orders", json={"address_id": address_id},
                              headers={**headers, "Idempotency-Key": key})
            statuses.append(response.status_code)
            if response.status_code == 409:  # the key is held by the request in flight: come back after this
                waits.append(int(response.headers["Retry-After"]))

    waits: list[int] = []
    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert all(1 <= wait <= 30 for wait in waits)
    assert shop.kernel.runner.call(lambda: Order.select().count()) == 1
    assert shop.client.get(f"/api/v1/products/{product_id}").json()["availability"]["total"] == 9


def test_cart_rules(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 10, price=500)
    headers, _ = customer(shop)
    add = "/api/v1/cart/items"
    assert_problem(shop.client.post(add, json={"product_id": 999999, "quantity": 1}, headers=headers), 404)
    for bad in (0, 100, -1, "2", 1.5):
        assert_problem(shop.client.post(add, json={"product_id": product_id, "quantity": bad}, headers=headers), 400)
    shop.client.post(add, json={"product_id": product_id, "quantity": 60}, headers=headers)
    # A valid request the cart's state refuses: 409 (it was a 400, which the contract says is bad input).
    assert_problem(shop.client.post(add, json={"product_id": product_id, "quantity": 40}, headers=headers), 409)
    assert shop.client.get("/api/v1/cart", headers=headers).json()["items"][0]["quantity"] == 60
    patched = shop.client.patch(f"{add}/{product_id}", json={"quantity": 2}, headers=headers).json()
    assert patched["total"] == 1000
    assert_problem(shop.client.patch(f"{add}/424242", json={"quantity": 2}, headers=headers), 404)

    from ecommerce.modules.catalog import products

    shop.kernel.runner.call(products.update, product_id, {"price": 650})
    assert shop.client.get("/api/v1/cart", headers=headers).json()["total"] == 1300  # priced live
    shop.kernel.runner.call(products.delete, product_id)
    gone = shop.client.get("/api/v1/cart", headers=headers).json()
    assert gone["items"] == [{"product_id": product_id, "name": None, "quantity": 2, "unit_price": None,
                              "line_total": None, "available": False}]
    assert gone["total"] == 0
    assert shop.client.delete(f"{add}/{product_id}", headers=headers).json()["items"] == []


def test_checkout_failures_are_clear_and_keep_the_cart(shop: Shop) -> None:
    headers, address_id = customer(shop)
    assert_problem(checkout(shop, headers, {"address_id": address_id}), 409)  # empty cart
    product_id, _ = stocked(shop.kernel, 1)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 3}, headers=headers)
    short = checkout(shop, headers, {"address_id": address_id})
    assert_problem(short, 409)
    assert short.json()["type"] == "/problems/insufficient-stock"
    assert len(shop.client.get("/api/v1/cart", headers=headers).json()["items"]) == 1
    assert_problem(checkout(shop, headers, {"address_id": 999999}), 404)
    assert_problem(checkout(shop, headers, {"address_id": "1"}), 400)


def test_other_users_orders_are_404(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 10)
    alice, alice_address = customer(shop)
    bob, bob_address = customer(shop)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=alice)
    order = checkout(shop, alice, {"address_id": alice_address}).json()
    assert_problem(shop.client.get(f"/api/v1/orders/{order['id']}", headers=bob), 404)
    assert_problem(shop.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=bob), 404)
    assert shop.client.get("/api/v1/orders", headers=bob).json()["items"] == []
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=bob)
    assert_problem(checkout(shop, bob, {"address_id": alice_address}), 404)  # not bob's address
    assert shop.client.get(f"/api/v1/orders/{order['id']}", headers=alice).json()["order_status"] == "pending_payment"
    assert bob_address


def test_cancel_and_admin_fulfilment(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 10)
    headers, address_id = customer(shop)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 4}, headers=headers)
    order = checkout(shop, headers, {"address_id": address_id}).json()
    cancelled = shop.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)
    assert cancelled.json()["order_status"] == "cancelled"
    assert shop.client.get(f"/api/v1/products/{product_id}").json()["availability"]["total"] == 10
    again = shop.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)
    assert_problem(again, 409)
    assert "cancelled" in again.json()["detail"]

    boss, _ = shop.account()
    shop.kernel.runner.call(users_accounts.set_role, boss["id"], "admin")
    admin = shop.headers(login(shop.client, boss["email"]))
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers)
    second = checkout(shop, headers, {"address_id": address_id}).json()
    move = f"/api/v1/admin/orders/{second['id']}/transitions"
    illegal = shop.client.post(move, json={"to": "shipped"}, headers=admin)
    assert_problem(illegal, 409)
    assert "pending_payment" in illegal.json()["detail"] and "shipped" in illegal.json()["detail"]
    assert_problem(shop.client.post(move, json={"to": "shipped"}, headers=headers), 403)
    listed = shop.client.get("/api/v1/admin/orders", params={"status": "cancelled"}, headers=admin).json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]
    assert_problem(shop.client.get("/api/v1/admin/orders", params={"status": "lost"}, headers=admin), 400)
    assert_problem(shop.client.get("/api/v1/admin/orders", params={"from": "yesterday"}, headers=admin), 400)


#: Written out by hand, not derived from ``states``: what a customer's cancel answers in each state.
CUSTOMER_CANCEL = {"pending_payment": 200, "paid": 200, "fulfilled": 409, "shipped": 409, "delivered": 409,
                   "cancelled": 409, "expired": 409, "refunded": 409}


def test_a_customer_cancels_only_before_fulfilment(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 100)
    headers, address_id = customer(shop)
    for state, expected in CUSTOMER_CANCEL.items():
        shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers)
        order = checkout(shop, headers, {"address_id": address_id}).json()
        shop.kernel.runner.call(lambda s=state, i=order["id"]: Order.update(order_status=s).where(
            Order.id == i).execute())  # the state under test, however the order got there
        answer = shop.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)
        assert answer.status_code == expected, (state, answer.text)
        now = shop.client.get(f"/api/v1/orders/{order['id']}", headers=headers).json()["order_status"]
        if expected == 409:
            assert_problem(answer, 409)
            assert f"from {state} to cancelled" in answer.json()["detail"]
            assert now == state
        else:
            assert now == "cancelled"


def test_a_free_cart_is_not_checked_out_into_an_order_nobody_can_pay(shop: Shop) -> None:
    """Prices are positive now; a product priced 0 before that rule must not make a dead-end order."""
    from ecommerce.modules.catalog.models import Product

    product_id, _ = stocked(shop.kernel, 10)
    shop.kernel.runner.call(lambda: Product.update(price=0).where(Product.id == product_id).execute())
    headers, address_id = customer(shop)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 2}, headers=headers)
    refused = checkout(shop, headers, {"address_id": address_id})
    assert_problem(refused, 409)
    assert "total is 0" in refused.json()["detail"]
    assert shop.client.get("/api/v1/orders", headers=headers).json()["items"] == []
    assert shop.client.get(f"/api/v1/products/{product_id}").json()["availability"]["total"] == 10  # nothing held
    assert [line["product_id"] for line in shop.client.get("/api/v1/cart", headers=headers).json()["items"]] == [
        product_id]  # the cart is kept


@pytest.mark.parametrize("path", ["/api/v1/cart", "/api/v1/orders"])
def test_cart_and_orders_need_a_login(shop: Shop, path: str) -> None:
    assert_problem(shop.client.get(path), 401)


def test_the_app_expires_unpaid_orders_in_the_background(shop_factory: Any) -> None:

    shop: Shop = shop_factory(run_relay=True, job_interval=0.2, module_settings={"orders": {"order_ttl": 1}})
    product_id, _ = stocked(shop.kernel, 5)
    headers, address_id = customer(shop)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 2}, headers=headers)
    order = checkout(shop, headers, {"address_id": address_id}).json()
    assert shop.client.get(f"/api/v1/products/{product_id}").json()["availability"]["total"] == 3
    eventually(lambda: shop.client.get(f"/api/v1/orders/{order['id']}", headers=headers).json()["order_status"]
               == "expired", timeout=30, interval=0.1, what="the order expiring")
    # The stock is released right after the order turns expired (a second step of the job), and a cached
    # product page is answered at once: wait for it rather than racing the job.
    eventually(lambda: shop.client.get(f"/api/v1/products/{product_id}").json()["availability"]["total"] == 5,
               timeout=30, interval=0.1, what="the stock coming back")


def test_admin_date_filters_respect_time_zones(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 5)
    headers, address_id = customer(shop)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers)
    order = checkout(shop, headers, {"address_id": address_id}).json()
    boss, _ = shop.account()
    shop.kernel.runner.call(users_accounts.set_role, boss["id"], "admin")
    admin = shop.headers(login(shop.client, boss["email"]))
    created = order["created_at"].replace("Z", "+00:00")
    import datetime

    moment = datetime.datetime.fromisoformat(created)
    in_tokyo = (moment - datetime.timedelta(seconds=1)).astimezone(datetime.timezone(datetime.timedelta(hours=9)))
    found = shop.client.get("/api/v1/admin/orders", params={"from": in_tokyo.isoformat()}, headers=admin).json()
    assert [o["id"] for o in found["items"]] == [order["id"]]
    later = (moment + datetime.timedelta(minutes=1)).astimezone(datetime.timezone(datetime.timedelta(hours=-5)))
    none = shop.client.get("/api/v1/admin/orders", params={"from": later.isoformat()}, headers=admin).json()
    assert none["items"] == []
