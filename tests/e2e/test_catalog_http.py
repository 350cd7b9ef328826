"""The catalog over real HTTP: admin writes, public reads, filters, keyset paging, no N+1, caching."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playhouse.test_utils import count_queries

from ecommerce.modules.users import accounts as users_accounts
from tests.support.api import assert_problem, login
from tests.support.catalog import brand, category, product, stocked
from tests.support.shop import Shop

PRODUCTS = "/api/v1/products"


@pytest.fixture
def admin(shop: Shop) -> dict[str, str]:
    user, _ = shop.account()
    shop.kernel.runner.call(users_accounts.set_role, user["id"], "admin")
    return shop.headers(login(shop.client, user["email"]))


def test_coordinates_near_zero_are_stored_not_a_500(shop: Shop, admin: dict[str, str]) -> None:
    """JSON allows -3.5e-145 and the range check passes it, but PostgreSQL's ``real`` column refuses a
    number that near zero (the OpenAPI fuzz found the 500): coordinates are kept to six decimal places."""
    made = shop.client.post("/api/v1/warehouses", headers=admin, json={
        "name": "Null Island", "location": {"city": "Nowhere", "country": "GH", "latitude": -3.546737597381477e-145,
                                            "longitude": 12.345678949}})
    assert made.status_code == 201, made.text
    location = made.json()["location"]
    assert location["latitude"] == 0 and abs(location["longitude"] - 12.345679) < 1e-4


def test_admin_builds_a_catalog_and_everyone_reads_it(shop: Shop, admin: dict[str, str]) -> None:
    c = shop.client
    shoes = c.post("/api/v1/categories", json={"name": "Shoes"}, headers=admin).json()
    running = c.post("/api/v1/categories", json={"name": "Running Shoes", "parent_id": shoes["id"]},
                     headers=admin).json()
    acme = c.post("/api/v1/brands", json={"name": "Acme"}, headers=admin).json()
    berlin = c.post("/api/v1/warehouses", json={"name": "Berlin", "location": {"city": "Berlin", "country": "de",
                                                                              "latitude": 52.5, "longitude": 13.4}},
                    headers=admin)
    assert berlin.status_code == 201 and berlin.json()["location"]["country"] == "DE"
    created = c.post(PRODUCTS, json={"name": "Road Runner 3", "description": "Light.", "price": 12999,
                                     "currency": "usd", "identification": "RR-3", "brand_id": acme["id"],
                                     "category_id": running["id"], "role": "ignored"}, headers=admin)
    assert created.status_code == 201, created.text
    item = created.json()
    assert (item["brand"], item["category"], item["currency"]) == ("Acme", "Running Shoes", "USD")
    stock = c.put(f"/api/v1/warehouses/{berlin.json()['id']}/stock/{item['id']}", json={"quantity": 7},
                  headers=admin)
    assert stock.json() == {"warehouse_id": berlin.json()["id"], "product_id": item["id"], "quantity": 7,
                            "reserved": 0}
    detail = c.get(f"{PRODUCTS}/{item['id']}").json()
    assert detail["availability"] == {"total": 7, "warehouses": [
        {"warehouse_id": berlin.json()["id"], "name": "Berlin", "quantity": 7}]}
    tree = {x["slug"]: x for x in c.get("/api/v1/categories").json()["items"]}
    assert tree["running-shoes"]["parent_id"] == shoes["id"] and tree["shoes"]["children"] == [running["id"]]
    assert [b["name"] for b in c.get("/api/v1/brands").json()["items"]] == ["Acme"]
    assert_problem(c.post(PRODUCTS, json={**item, "price": 1}, headers=admin), 409)  # same SKU

    renamed = c.patch(f"/api/v1/brands/{acme['id']}", json={"name": "Acme Corp"}, headers=admin)
    assert renamed.json()["name"] == "Acme Corp"
    assert c.get(f"{PRODUCTS}/{item['id']}").json()["brand"] == "Acme Corp"  # cached pages were dropped
    moved = c.patch(f"/api/v1/warehouses/{berlin.json()['id']}", json={"name": "Berlin Nord"}, headers=admin)
    assert moved.json()["name"] == "Berlin Nord" and moved.json()["location"]["city"] == "Berlin"
    assert c.get(f"{PRODUCTS}/{item['id']}").json()["availability"]["warehouses"][0]["name"] == "Berlin Nord"

    changed = c.patch(f"{PRODUCTS}/{item['id']}", json={"price": 9999}, headers=admin)
    assert changed.json()["price"] == 9999
    assert c.get(f"{PRODUCTS}/{item['id']}").json()["price"] == 9999  # the cached detail was forgotten
    assert c.delete(f"{PRODUCTS}/{item['id']}", headers=admin).status_code == 204
    assert_problem(c.get(f"{PRODUCTS}/{item['id']}"), 404)
    assert c.get(PRODUCTS).json()["items"] == []


def test_a_price_must_be_positive(shop: Shop, admin: dict[str, str]) -> None:
    """A price of 0 would make orders nobody can pay (a payment is positive): create and patch refuse it."""
    c = shop.client
    item = {"name": "Freebie", "price": 0, "currency": "USD", "identification": "FREE-1"}
    for price in (0, -1):
        refused = c.post(PRODUCTS, json={**item, "price": price}, headers=admin)
        assert_problem(refused, 400)
        assert "price" in refused.text
    created = c.post(PRODUCTS, json={**item, "price": 1}, headers=admin)
    assert created.status_code == 201, created.text
    refused = c.patch(f"{PRODUCTS}/{created.json()['id']}", json={"price": 0}, headers=admin)
    assert_problem(refused, 400)
    assert c.get(f"{PRODUCTS}/{created.json()['id']}").json()["price"] == 1


WRITES = [
    ("POST", PRODUCTS, {"name": "x", "price": 1, "currency": "USD", "identification": "X-1"}),
    ("PATCH", f"{PRODUCTS}/1", {"price": 1}),
    ("DELETE", f"{PRODUCTS}/1", None),
    ("POST", "/api/v1/categories", {"name": "x"}),
    ("PATCH", "/api/v1/categories/1", {"name": "y"}),
    ("DELETE", "/api/v1/categories/1", None),
    ("POST", "/api/v1/brands", {"name": "x"}),
    ("PATCH", "/api/v1/brands/1", {"name": "y"}),
    ("DELETE", "/api/v1/brands/1", None),
    ("GET", "/api/v1/warehouses", None),
    ("POST", "/api/v1/warehouses", {"name": "x", "location": {"city": "x", "country": "DE"}}),
    ("DELETE", "/api/v1/warehouses/1", None),
    ("PATCH", "/api/v1/warehouses/1", {"name": "y"}),
    ("PUT", "/api/v1/warehouses/1/stock/1", {"quantity": 5}),
]


def test_customers_get_403_on_every_write_route(shop: Shop) -> None:
    _, tokens = shop.account()
    for method, path, body in WRITES:
        response = shop.client.request(method, path, json=body, headers=shop.headers(tokens))
        assert_problem(response, 403)
        assert_problem(shop.client.request(method, path, json=body), 401)


@pytest.mark.parametrize(
    "params",
    [{"min_price": "abc"}, {"max_price": "-1"}, {"sort": "popularity"}, {"limit": "0"}, {"limit": "x"},
     {"brand": "acme"}, {"in_stock": "maybe"}, {"category": "no-such-category"}, {"cursor": "garbage!"},
     {"q": "x" * 201}],
)
def test_invalid_filters_are_400(shop: Shop, params: dict[str, str]) -> None:
    assert_problem(shop.client.get(PRODUCTS, params=params), 400)


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_filters_and_sorts(shop: Shop) -> None:
    k = shop.kernel
    tech = category(k, "Tech")
    audio = category(k, "Audio", tech)
    food = category(k, "Food")
    acme = brand(k, "Acme")
    cheap, _ = stocked(k, 5, name="Cheap Earbuds", price=999, category_id=audio, brand_id=acme)
    dear = product(k, name="Dear Speaker", price=49999, category_id=tech)["id"]
    bread = product(k, name="Sourdough Bread", price=450, category_id=food, identification="BREAD-1")["id"]
    c = shop.client
    assert set(ids(c.get(PRODUCTS, params={"category": "tech"}))) == {cheap, dear}  # with its sub-category
    assert ids(c.get(PRODUCTS, params={"category": str(audio)})) == [cheap]
    assert ids(c.get(PRODUCTS, params={"brand": acme})) == [cheap]
    assert ids(c.get(PRODUCTS, params={"min_price": 500, "max_price": 1000})) == [cheap]
    assert ids(c.get(PRODUCTS, params={"in_stock": "true"})) == [cheap]
    assert ids(c.get(PRODUCTS, params={"q": "speaker"})) == [dear]
    assert ids(c.get(PRODUCTS, params={"q": "BREAD-1"})) == [bread]
    assert ids(c.get(PRODUCTS, params={"sort": "price"})) == [bread, cheap, dear]
    assert ids(c.get(PRODUCTS, params={"sort": "-price"})) == [dear, cheap, bread]
    assert ids(c.get(PRODUCTS, params={"sort": "name"})) == [cheap, dear, bread]
    assert ids(c.get(PRODUCTS)) == [bread, dear, cheap]  # newest first
    listed = {i["id"]: i for i in c.get(PRODUCTS).json()["items"]}
    assert listed[cheap]["availability"] == {"total": 5} and listed[dear]["availability"] == {"total": 0}


@pytest.mark.parametrize("sort", ["-created_at", "price", "-price", "name"])
def test_paging_returns_each_product_once_while_products_are_added(shop: Shop, sort: str) -> None:
    k = shop.kernel
    existing = {product(k, price=100 * (n % 7) + 100, name=f"Item {n % 5}")["id"] for n in range(23)}
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        page = shop.client.get(PRODUCTS, params=params).json()
        seen.extend(item["id"] for item in page["items"])
        product(k, price=100 * (pages % 7) + 100, name=f"Item {pages % 5}")  # inserted between pages
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))  # nothing twice
    assert existing <= set(seen)  # nothing that existed at the start was skipped


def test_a_cursor_from_another_sort_or_forged_is_400(shop: Shop) -> None:
    import base64
    import json

    for n in range(3):
        product(shop.kernel, price=n + 1)
    cursor = shop.client.get(PRODUCTS, params={"limit": 1, "sort": "price"}).json()["next_cursor"]
    assert_problem(shop.client.get(PRODUCTS, params={"cursor": cursor, "sort": "name"}), 400)
    for forged in ({"s": "price", "v": "abc", "id": 1}, {"s": "name", "v": 5, "id": 1},
                   {"s": "price", "v": 1, "id": "x"}, {"s": "-created_at", "v": "not a date", "id": 1}):
        token = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        assert_problem(shop.client.get(PRODUCTS, params={"cursor": token, "sort": forged["s"]}), 400)


def test_listing_costs_the_same_number_of_queries_for_any_page_size(shop: Shop) -> None:
    k = shop.kernel
    tech = category(k, "Gadgets")
    acme = brand(k, "Gizmo")
    for n in range(60):
        stocked(k, n, category_id=tech, brand_id=acme)
    shop.client.get(PRODUCTS, params={"category": "gadgets"})  # warm the category-tree cache
    counts = []
    for limit in (5, 50):
        with count_queries() as counted:
            response = shop.client.get(PRODUCTS, params={"limit": limit, "in_stock": "true", "category": "gadgets"})
        assert len(response.json()["items"]) == limit
        counts.append(counted.count)
    assert counts[0] == counts[1] == 1, counts  # one query per page, whatever its size
