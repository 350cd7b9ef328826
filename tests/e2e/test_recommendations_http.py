"""Recommendations over real HTTP on every layout: real checkouts paid with the simulator's test card,
the relay delivering order events, the data lake's log, and a rebuild that equals the live model."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import uuid
from typing import Any

import pytest

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.events import Envelope
from ecommerce.modules.orders import transitions
from ecommerce.modules.orders.events import OrderPlaced, OrderStatusChanged
from ecommerce.modules.recommendations import api as recommendations
from ecommerce.modules.recommendations import reactions
from ecommerce.modules.recommendations.models import MODELS, Pair, Sales
from tests.support.api import assert_problem
from tests.support.catalog import category, stocked, warehouse
from tests.support.orders import ADDRESS
from tests.support.processes import cli_env
from tests.support.shop import Shop

#: Events cross modules here: these tests also run with the RabbitMQ transport.
pytestmark = pytest.mark.events

CARD = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2035, "cvc": "123",
        "holder_name": "Ada Lovelace"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


class Shopper:
    """A signed-in customer with an address and a saved card, buying through the public API."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        user, tokens = shop.account()
        self.user_id = int(user["id"])
        self.headers = shop.headers(tokens)
        self.address = self._post("/api/v1/users/me/addresses", ADDRESS)["id"]
        self.card = self._post("/api/v1/payments/tokens", CARD)["id"]

    def _post(self, path: str, body: dict[str, Any], extra: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.shop.client.post(path, json=body, headers={**self.headers, **(extra or {})})
        assert response.status_code in (200, 201), response.text
        result: dict[str, Any] = response.json()
        return result

    def order(self, *product_ids: int, pay: bool = True) -> int:
        for product_id in product_ids:
            self._post("/api/v1/cart/items", {"product_id": product_id, "quantity": 1})
        order_id = int(self._post("/api/v1/orders", {"address_id": self.address}, key())["id"])
        if pay:
            paid = self._post("/api/v1/payments", {"order_id": order_id, "token_id": self.card, "cvc": "123"}, key())
            assert paid["status"] == "succeeded"
        self.shop.kernel.relay_until_idle()
        return order_id

    def cancel(self, order_id: int) -> None:
        self._post(f"/api/v1/orders/{order_id}/cancel", {})
        self.shop.kernel.relay_until_idle()

    def recommendations(self, **params: Any) -> list[dict[str, Any]]:
        response = self.shop.client.get("/api/v1/users/me/recommendations", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def for_product(shop: Shop, product_id: int, **params: Any) -> list[dict[str, Any]]:
    response = shop.client.get(f"/api/v1/products/{product_id}/recommendations", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def reasons(items: list[dict[str, Any]], reason: str) -> list[tuple[int, int]]:
    return [(item["id"], item["score"]) for item in items if item["reason"] == reason]


def products(shop: Shop, count: int, category_id: int | None = None) -> list[int]:
    wid = warehouse(shop.kernel)
    return [stocked(shop.kernel, 50, wid, category_id=category_id)[0] for _ in range(count)]


def model(shop: Shop) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every recommendations table, sorted: what "equal models" means."""
    def read() -> dict[str, list[tuple[Any, ...]]]:
        return {m._meta.table_name: sorted(m.select().tuples()) for m in MODELS}

    result: dict[str, list[tuple[Any, ...]]] = shop.kernel.runner.call(read)  # type: ignore[assignment]
    return result


def test_bought_together_counts_paid_orders_only(shop: Shop) -> None:
    a, b, c, d = products(shop, 4)
    for _ in range(2):
        Shopper(shop).order(a, b)
    Shopper(shop).order(a, c)
    Shopper(shop).order(a, d, pay=False)  # placed, never paid
    items = for_product(shop, a)
    assert reasons(items, "bought_together") == [(b, 2), (c, 1)]
    assert a not in [item["id"] for item in items]
    assert next(item for item in items if item["id"] == d)["reason"] != "bought_together"
    assert reasons(for_product(shop, b), "bought_together") == [(a, 2)]
    first = items[0]
    assert set(first) >= {"id", "name", "sku", "price", "currency", "availability", "reason", "score"}


def test_a_cancelled_or_expired_order_does_not_count_and_a_refund_takes_it_back(shop: Shop) -> None:
    a, b, c, d = products(shop, 4)
    buyer = Shopper(shop)
    buyer.cancel(buyer.order(a, b, pay=False))
    Shopper(shop).order(a, c, pay=False)
    assert shop.kernel.runner.call(transitions.expire_due, utcnow() + datetime.timedelta(days=1)) == 1
    shop.kernel.relay_until_idle()
    refunded = Shopper(shop)
    refunded.cancel(refunded.order(a, d))  # paid, then cancelled: payments refunds it
    assert reasons(for_product(shop, a), "bought_together") == []
    assert shop.kernel.runner.call(lambda: Pair.select().count()) == 0


def test_redelivery_does_not_count_twice(shop: Shop) -> None:
    a, b = products(shop, 2)
    buyer = Shopper(shop)
    order_id = buyer.order(a, b)
    before = model(shop)
    assert reasons(for_product(shop, a), "bought_together") == [(b, 1)]

    # The relay delivers again (a lease expired, a worker died before marking the row delivered).
    orders = shop.kernel.registry["orders"].events.Outbox
    assert shop.kernel.runner.call(lambda: orders.update(delivered_at=None).execute()) > 0
    shop.kernel.relay_until_idle()
    assert model(shop) == before

    # Even without the inbox (an atomic=False path, a replay): the handlers themselves are idempotent.
    placed = OrderPlaced(order_id=order_id, user_id=buyer.user_id, total=0, currency="USD",
                         lines=[{"product_id": a, "quantity": 1, "unit_price": 1}, {"product_id": b, "quantity": 1,
                                                                                     "unit_price": 1}])
    paid = OrderStatusChanged(order_id=order_id, user_id=buyer.user_id, from_status="pending_payment", to_status="paid")
    for event, handler in ((placed, reactions.on_order_placed), (paid, reactions.on_order_status_changed)):
        envelope = Envelope(str(uuid.uuid4()), "orders", utcnow(), event)
        shop.kernel.runner.call(handler, envelope)
    after = model(shop)
    assert after["recommendations_pairs"] == before["recommendations_pairs"]
    assert after["recommendations_sales"] == before["recommendations_sales"]


def test_user_recommendations_exclude_what_they_bought(shop: Shop) -> None:
    kitchen = category(shop.kernel, "Kitchen")
    a, b, c = products(shop, 3, kitchen)
    (lonely,) = products(shop, 1, kitchen)
    me = Shopper(shop)
    me.order(a)
    Shopper(shop).order(a, b)
    Shopper(shop).order(a, b, c)
    Shopper(shop).order(lonely)
    mine = me.recommendations()
    ids = [item["id"] for item in mine]
    assert a not in ids
    assert reasons(mine, "bought_together") == [(b, 2), (c, 1)]
    assert reasons(mine, "popular_in_category") == [(lonely, 1)]
    me.order(b)
    assert b not in [item["id"] for item in me.recommendations()]
    assert_problem(shop.client.get("/api/v1/users/me/recommendations"), 401)


def test_cold_start_is_never_empty_and_only_sells_what_is_in_stock(shop: Shop) -> None:
    kitchen = category(shop.kernel, "Kitchen")
    a, b, c = products(shop, 3, kitchen)
    sold_out, _ = stocked(shop.kernel, 0, category_id=kitchen)
    items = for_product(shop, a, limit=5)
    assert {item["id"] for item in items} == {b, c}
    assert {item["reason"] for item in items} == {"catalog"}
    newcomer = Shopper(shop)
    assert {item["id"] for item in newcomer.recommendations()} == {a, b, c}
    assert sold_out not in [item["id"] for item in for_product(shop, b)]
    Shopper(shop).order(c)
    top = for_product(shop, a, limit=1)
    assert [(item["id"], item["reason"], item["score"]) for item in top] == [(c, "popular_in_category", 1)]


def test_bad_input_is_a_problem(shop: Shop) -> None:
    (a,) = products(shop, 1)
    assert_problem(shop.client.get("/api/v1/products/999999/recommendations"), 404)
    for limit in ("0", "51", "ten", "-1", "1\x00"):
        assert_problem(shop.client.get(f"/api/v1/products/{a}/recommendations", params={"limit": limit}), 400)
    assert len(for_product(shop, a, limit=50)) == 0  # the only product is the one being viewed


def test_every_relayed_event_lands_in_the_lake_partitioned_by_date(shop: Shop) -> None:
    a, b = products(shop, 2)
    buyer = Shopper(shop)
    buyer.cancel(buyer.order(a, b))
    assert shop.kernel.lake is not None
    root = shop.kernel.settings.data_dir / "lake" / "events"
    assert shop.kernel.lake.events_dir == root
    logged: dict[str, dict[str, Any]] = {}
    for path in root.glob("date=*/*.jsonl"):
        day = path.parent.name.removeprefix("date=")
        for line in path.read_text().splitlines():
            record = json.loads(line)
            assert record["occurred_at"].startswith(day)
            assert path.name == f"{record['name']}.v{record['version']}.jsonl"
            logged[record["id"]] = record

    def outbox() -> dict[str, tuple[str, str, dict[str, Any]]]:
        rows: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for module in shop.kernel.registry:
            for row in module.events.Outbox.select():
                rows[row.event_id] = (row.name, module.name, json.loads(row.payload))
        return rows

    published: dict[str, tuple[str, str, dict[str, Any]]] = shop.kernel.runner.call(outbox)  # type: ignore[assignment]
    assert set(logged) == set(published)
    names = {name for name, _, _ in published.values()}
    assert {"orders.OrderPlaced.v1", "orders.OrderStatusChanged.v1", "payments.PaymentSucceeded.v1"} <= names
    for event_id, (name, source, payload) in published.items():
        record = logged[event_id]
        key = f"{record['name']}.v{record['version']}"
        assert (key, record["source"], record["payload"]) == (name, source, payload)


def test_the_lake_can_be_turned_off(shop_factory: Any) -> None:
    shop = shop_factory(event_lake=False)
    a, b = products(shop, 2)
    Shopper(shop).order(a, b)
    assert shop.kernel.lake is None
    assert not (shop.kernel.settings.data_dir / "lake").exists()
    assert reasons(for_product(shop, a), "bought_together") == [(b, 1)]


def test_rebuild_from_the_lake_equals_the_incremental_model(shop: Shop) -> None:
    kitchen, garden = category(shop.kernel, "Kitchen"), category(shop.kernel, "Garden")
    pan, pot, knife = products(shop, 3, kitchen)
    hose, rake = products(shop, 2, garden)
    ada, bob, cy, dee = (Shopper(shop) for _ in range(4))
    ada.order(pan, pot)
    ada.order(knife)
    bob.order(pan, pot, knife)
    cy.order(hose, rake)
    cy.cancel(cy.order(pan, hose, pay=False))  # cancelled before payment: never counted
    dee.order(pan, rake, pay=False)  # expires unpaid: never counted
    assert shop.kernel.runner.call(transitions.expire_due, utcnow() + datetime.timedelta(days=1)) == 1
    dee.cancel(dee.order(knife, hose))  # paid, then cancelled and refunded: taken back out
    dee.order(pot, rake)
    # A duplicate delivery: the relay hands the orders' events over again (and logs them twice).
    orders = shop.kernel.registry["orders"].events.Outbox
    shop.kernel.runner.call(lambda: orders.update(delivered_at=None, attempts=0).execute())
    shop.kernel.relay_until_idle()

    incremental = model(shop)
    assert incremental["recommendations_pairs"]  # a real model, not two empty ones
    pairs = {(product, other): count for product, other, count in incremental["recommendations_pairs"]}
    assert pairs[(pan, pot)] == pairs[(pot, pan)] == 2 and (pan, hose) not in pairs and (knife, hose) not in pairs
    sales = {row[0]: row[1] for row in incremental["recommendations_sales"]}
    assert sales == {pan: 2, pot: 3, knife: 2, hose: 1, rake: 2}

    assert shop.kernel.lake is not None
    rebuilt = shop.kernel.runner.call(recommendations.rebuild, shop.kernel.lake)
    assert model(shop) == incremental
    assert rebuilt.products == len(sales)  # type: ignore[attr-defined]

    # From nothing: the model wiped out entirely, then rebuilt from the log alone.
    shop.kernel.runner.call(lambda: [m.delete().execute() for m in reversed(MODELS)])
    assert for_product(shop, pan)[0]["reason"] != "bought_together"
    shop.kernel.runner.call(recommendations.rebuild, shop.kernel.lake)
    assert model(shop) == incremental
    assert reasons(for_product(shop, pan), "bought_together")[0] == (pot, 2)
    assert shop.kernel.runner.call(lambda: Sales.get_by_id(pot).units) == 3


def test_the_rebuild_command(shop: Shop) -> None:
    a, b = products(shop, 2)
    Shopper(shop).order(a, b)
    before = model(shop)
    settings = shop.kernel.settings
    assert settings.secret_key is not None
    env = cli_env(settings.data_dir.parent, ECOMMERCE_SECRET_KEY=settings.secret_key)
    if settings.database_url:
        env["ECOMMERCE_DATABASE_URL"] = settings.database_url
    shop.kernel.runner.call(lambda: [m.delete().execute() for m in reversed(MODELS)])

    def rebuild(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ecommerce", "recommendations", "rebuild"],
                              env={**env, **extra}, capture_output=True, text=True, timeout=120)

    result = rebuild()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"replayed 2 event(s) from {settings.data_dir / 'lake'}: "
                                     "2 product(s) with sales, 2 bought-together pair(s)")
    assert model(shop) == before
    off = rebuild(ECOMMERCE_EVENT_LAKE="false")
    assert off.returncode == 2 and "ECOMMERCE_EVENT_LAKE" in off.stderr
