"""The recommendations facade's contract: the same assertions in-process and over HTTP (a live
recommendations service).

What a storefront on another service relies on: lists of :class:`Recommendation` holding the catalog's own
:class:`ProductDocument`, each with its reason and score, in the order the public routes show; never a
product the shopper already bought; and ``NotFound`` for a product that is not (or no longer) sold.
The read model is filled the real way: checkouts paid over the public API, their events relayed.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ecommerce.kernel.errors import NotFound
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.catalog import products as catalog_products
from ecommerce.modules.recommendations import api as recommendations
from tests.support.api import CARD, post, signed_in
from tests.support.catalog import category, stocked, warehouse
from tests.support.live_server import LiveServer
from tests.support.orders import ADDRESS
from tests.support.remote import ADAPTERS, Facade, routed

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(params=ADAPTERS)
def call(request: pytest.FixtureRequest, live: LiveServer) -> Iterator[Facade]:
    with routed("recommendations", request.param, live) as facade:
        yield facade


def buyer(client: httpx.Client, call: Facade, *baskets: tuple[int, ...]) -> int:
    """A new customer who checks out and pays one order per basket over the public API; the relay then
    delivers the orders' events to the recommendations module. Returns the customer's id."""
    user, headers = signed_in(client)
    address = post(client, "/api/v1/users/me/addresses", ADDRESS, headers)["id"]
    card = post(client, "/api/v1/payments/tokens", CARD, headers)["id"]
    for basket in baskets:
        for product_id in basket:
            post(client, "/api/v1/cart/items", {"product_id": product_id, "quantity": 1}, headers)
        order = post(client, "/api/v1/orders", {"address_id": address}, headers)["id"]
        paid = post(client, "/api/v1/payments", {"order_id": order, "token_id": card, "cvc": "123"}, headers)
        assert paid["status"] == "succeeded"
    call.kernel.relay_until_idle()
    return int(user["id"])


def shelf(call: Facade, count: int, category_id: int | None = None) -> list[int]:
    wid = warehouse(call.kernel)
    return [stocked(call.kernel, 50, wid, category_id=category_id)[0] for _ in range(count)]


def ranked(items: list[recommendations.Recommendation]) -> list[tuple[int, str, int]]:
    return [(item.product.product_id, item.reason, item.score) for item in items]


def test_for_product_ranks_bought_together_first_as_the_public_route_does(call: Facade,
                                                                          client: httpx.Client) -> None:
    a, b, c, d = shelf(call, 4)
    buyer(client, call, (a, b), (a, b))
    buyer(client, call, (a, c))
    found = call(recommendations.for_product, a)
    assert all(isinstance(item, recommendations.Recommendation) for item in found)
    assert all(isinstance(item.product, catalog.ProductDocument) for item in found)
    assert ranked(found)[:2] == [(b, "bought_together", 2), (c, "bought_together", 1)]
    assert a not in [item.product.product_id for item in found] and d in [item.product.product_id for item in found]
    assert found[0].product == call.kernel.runner.call(catalog.documents, [b])[0]  # the catalog's current one
    public = client.get(f"/api/v1/products/{a}/recommendations")
    assert public.status_code == 200, public.text
    assert [(i["id"], i["reason"], i["score"]) for i in public.json()["items"]] == ranked(found)
    assert ranked(call(recommendations.for_product, a, 1)) == [(b, "bought_together", 2)]


def test_for_product_of_an_unknown_or_deleted_product_raises_not_found(call: Facade) -> None:
    with pytest.raises(NotFound) as caught:
        call(recommendations.for_product, 999_999)
    assert caught.value.status == 404 and caught.value.detail == "No such product."
    [gone] = shelf(call, 1)
    assert call(recommendations.for_product, gone) == []  # the only product: nothing else to show
    call.kernel.runner.call(catalog_products.delete, gone)
    with pytest.raises(NotFound):
        call(recommendations.for_product, gone)


def test_for_user_never_offers_what_the_user_bought(call: Facade, client: httpx.Client) -> None:
    shoes = category(call.kernel, "Contract Shoes")
    a, b, c = shelf(call, 3, category_id=shoes)
    buyer(client, call, (a, b))
    shopper = buyer(client, call, (a,))
    suggested = call(recommendations.for_user, shopper)
    assert all(isinstance(item, recommendations.Recommendation) for item in suggested)
    assert ranked(suggested) == [(b, "bought_together", 1), (c, "catalog", 0)]
    assert ranked(call(recommendations.for_user, shopper, 1)) == [(b, "bought_together", 1)]
    assert call.kernel.runner.call(recommendations.purchased_by, shopper) == {a}
    newcomer = call(recommendations.for_user, 999_999)  # nothing bought: best sellers first, no error
    assert [item.product.product_id for item in newcomer] == [a, b, c]
    assert [item.reason for item in newcomer] == ["popular", "popular", "catalog"]


def test_popular_lists_best_sellers_then_the_catalog(call: Facade, client: httpx.Client) -> None:
    assert call(recommendations.popular) == []  # an empty catalog: nothing to sell
    a, b, c = shelf(call, 3)
    cold = call(recommendations.popular)
    assert ranked(cold) == [(a, "catalog", 0), (b, "catalog", 0), (c, "catalog", 0)]
    buyer(client, call, (c,), (c, b))
    best = call(recommendations.popular, 2)
    assert ranked(best) == [(c, "popular", 2), (b, "popular", 1)]
    assert best[0].product == call.kernel.runner.call(catalog.documents, [c])[0]
