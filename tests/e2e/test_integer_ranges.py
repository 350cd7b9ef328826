"""Integers beyond what the databases store are a 4xx problem, never a 500 (issue 14, item 6).

The routes are not listed by hand: every operation of the published OpenAPI document with an integer
in its path, query string or JSON body is attacked, so a new route is covered the day it is added. Each
integer gets values past every storage limit (PostgreSQL INTEGER and BIGINT, SQLite's 64-bit INTEGER,
JavaScript's 2^53) while the rest of the request is valid; keyset cursors get forged positions too.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import uuid
from typing import Any

import pytest

from ecommerce.kernel.limits import MAX_AMOUNT, MAX_ID
from ecommerce.modules.users import accounts
from tests.support.api import assert_problem, bearer, login
from tests.support.catalog import stocked
from tests.support.orders import ADDRESS
from tests.support.shop import Shop

#: Past PostgreSQL INTEGER, JavaScript's exact integers, BIGINT/SQLite INTEGER, 64 unsigned bits; and below.
HUGE = (2**31, 2**53 + 1, 2**63, 2**64 + 1, 10**30, -(2**63) - 1)
_keys = itertools.count(1)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema or ("allOf" in schema and len(schema["allOf"]) == 1):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = spec["components"]["schemas"][name]
        else:
            schema = schema["allOf"][0]
    return schema


def _is_integer(schema: dict[str, Any]) -> bool:
    options = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    return any(option.get("type") == "integer" for option in options)


def _sample(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A plausible value for ``schema``: its example, else something of its type."""
    schema = _resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return _sample(spec, options[0])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _sample(spec, prop) for name, prop in schema.get("properties", {}).items()}
    return {"integer": 1, "number": 1.5, "boolean": True, "array": [], "string": "x"}.get(kind or "string", "x")


def _range(schema: dict[str, Any]) -> tuple[int, int]:
    """The documented range of an integer schema; 64 bits when it documents none."""
    options = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    integer = next(option for option in options if option.get("type") == "integer")
    return integer.get("minimum", -(2**63)), integer.get("maximum", 2**63 - 1)


def _integer_paths(spec: dict[str, Any], schema: dict[str, Any], prefix: tuple[str, ...] = ()
                   ) -> list[tuple[tuple[str, ...], tuple[int, int]]]:
    """Every integer property of a body schema: its path of keys (nested objects included), its range."""
    schema = _resolve(spec, schema)
    if _is_integer(schema):
        return [(prefix, _range(schema))]
    found: list[tuple[tuple[str, ...], tuple[int, int]]] = []
    for option in [*schema.get("anyOf", []), *schema.get("oneOf", [])]:
        if "$ref" in option:
            found += _integer_paths(spec, option, prefix)
    for name, prop in schema.get("properties", {}).items():
        found += _integer_paths(spec, prop, (*prefix, name))
    return found


def _with(body: dict[str, Any], path: tuple[str, ...], value: int) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    node = copy
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return copy


def _cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()
            if path.startswith("/api/") and path != "/api/v1/auth/logout"]


Attack = tuple[str, str, dict[str, Any], Any, str, bool]


def _attacks(spec: dict[str, Any]) -> list[Attack]:
    """``(method, url, params, body, what, refused)`` for every out-of-range integer the document lets us
    place; ``refused``: the value is outside the documented range, so the answer must be a 4xx."""
    attacks: list[Attack] = []
    for method, path, op in _operations(spec):
        params = op.get("parameters", [])
        path_ints = [p["name"] for p in params if p["in"] == "path" and _is_integer(p.get("schema", {}))]
        path_strs = [p["name"] for p in params if p["in"] == "path" and p["name"] not in path_ints]
        base_url = path
        for name in path_strs:
            base_url = base_url.replace("{" + name + "}", "x")
        body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        body = _sample(spec, body_schema) if body_schema else None

        def url(overrides: dict[str, int], base: str = base_url, names: list[str] = path_ints) -> str:
            for name in names:
                base = base.replace("{" + name + "}", str(overrides.get(name, 1)))
            return base

        for p in params:
            if p["in"] in ("path", "query") and _is_integer(p.get("schema", {})):
                low, high = _range(p["schema"])
                # The page size is a policy (capped or refused: the pagination contract says), not a column.
                checked = p["name"] != "limit"
                for value in HUGE:
                    place = ({p["name"]: value}, {}) if p["in"] == "path" else ({}, {p["name"]: value})
                    attacks.append((method, url(place[0]), place[1], body, f"{p['in']} {p['name']}={value}",
                                    checked and not low <= value <= high))
            if p["in"] == "query" and p["name"] == "cursor":
                for value in HUGE:
                    for position in ({"id": value}, {"id": 1, "v": value}, {"id": value, "v": 1},
                                     *({"s": sort, "v": value, "id": 1} for sort in ("price", "-price")),
                                     *({"s": sort, "v": "a", "id": value} for sort in ("name", "price")),
                                     {"t": value, "id": str(uuid.uuid4())}):
                        # A cursor whose id no table can hold is refused everywhere; other keys only
                        # where a route reads them (the rest must simply not fail).
                        attacks.append((method, url({}), {"cursor": _cursor(position)}, body, f"cursor {position}",
                                        set(position) == {"id"}))
        if body_schema is not None:
            for field, (low, high) in _integer_paths(spec, body_schema):
                attacks += [(method, url({}), {}, _with(body or {}, field, value), f"body {'.'.join(field)}={value}",
                             not low <= value <= high) for value in HUGE]
    return attacks


def _admin(shop: Shop) -> dict[str, str]:
    user, _ = shop.account()
    shop.kernel.runner.call(accounts.set_role, user["id"], "admin")
    return bearer(login(shop.client, user["email"])["access_token"])


def test_every_integer_of_every_route_is_checked_against_the_columns(shop: Shop) -> None:
    headers = _admin(shop)
    # Something real for the routes to reach past validation with: a product, an address, a cart line.
    product_id, _ = stocked(shop.kernel, 5)
    shop.client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=headers)
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers)
    spec = shop.client.get("/docs/openapi.json").json()
    attacks = _attacks(spec)
    covered = {(method, re.sub(r"/-?\d+", "/{id}", url)) for method, url, *_ in attacks}
    assert len(covered) >= 30, covered  # the enumeration found the routes (ids, filters, cursors, bodies)
    failures = []
    for method, url, params, body, what, refused in attacks:
        request_headers = {**headers, "Idempotency-Key": f"range-{next(_keys)}"}
        response = shop.client.request(method, url, params=params, json=body, headers=request_headers)
        problem = 400 <= response.status_code < 500 and response.headers.get("content-type", "").startswith(
            "application/problem+json")
        if response.status_code >= 500 or (refused and not problem):
            failures.append(f"{method} {url} {what}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)


def test_path_ids_beyond_the_columns_are_404_and_query_and_body_integers_400(shop: Shop) -> None:
    headers = _admin(shop)
    for value in (MAX_ID + 1, 2**63, 2**64 + 1):
        assert_problem(shop.client.get(f"/api/v1/products/{value}"), 404)
        assert_problem(shop.client.get(f"/api/v1/orders/{value}", headers=headers), 404)
    assert_problem(shop.client.get("/api/v1/products", params={"max_price": 18446744073709551617}), 400, "max_price")
    assert_problem(shop.client.get("/api/v1/products", params={"brand": MAX_ID + 1}), 400, "brand")
    assert_problem(shop.client.post("/api/v1/cart/items", json={"product_id": 2**64}, headers=headers), 400,
                   "product_id")
    too_dear = {"name": "Gold", "price": MAX_AMOUNT + 1, "currency": "USD", "identification": "GOLD-1"}
    assert_problem(shop.client.post("/api/v1/products", json=too_dear, headers=headers), 400, "price")
    # The edges themselves are fine: an id that can exist is looked up (and is simply not there).
    assert_problem(shop.client.get(f"/api/v1/products/{MAX_ID}"), 404)
    assert shop.client.get("/api/v1/products", params={"max_price": MAX_AMOUNT}).status_code == 200


def test_openapi_publishes_the_ranges(shop: Shop) -> None:
    spec = shop.client.get("/docs/openapi.json").json()
    product = spec["paths"]["/api/v1/products/{product_id}"]["get"]["parameters"]
    schema = next(p["schema"] for p in product if p["name"] == "product_id")
    assert schema["minimum"] == 1 and schema["maximum"] == MAX_ID
    listing = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert listing["max_price"]["maximum"] == MAX_AMOUNT and listing["brand"]["maximum"] == MAX_ID
    price = spec["components"]["schemas"]["ProductIn"]["properties"]["price"]
    assert price["maximum"] <= MAX_AMOUNT


@pytest.mark.parametrize("backend", ["postgres", "sqlite"], indirect=True)
def test_an_order_total_beyond_32_bits_checks_out_and_is_paid(shop: Shop) -> None:
    """A product at the highest unit price, 99 of it: the total passes 2^31-1 (PostgreSQL INTEGER)."""
    from ecommerce.modules.catalog.rules import MAX_PRICE

    _, tokens = shop.account()
    headers = shop.headers(tokens)
    product_id, _ = stocked(shop.kernel, 200, price=MAX_PRICE)
    address = shop.client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=headers).json()
    added = shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 99}, headers=headers)
    assert added.status_code == 200, added.text
    assert added.json()["total"] == MAX_PRICE * 99 > 2**31
    order = shop.client.post("/api/v1/orders", json={"address_id": address["id"]},
                             headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert order.status_code == 201, order.text
    assert order.json()["total"] == MAX_PRICE * 99
    card = shop.client.post("/api/v1/payments/tokens", headers=headers, json={
        "card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}).json()
    paid = shop.client.post("/api/v1/payments", json={"order_id": order.json()["id"], "token_id": card["id"],
                                                      "cvc": "123"},
                            headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert paid.status_code == 201, paid.text
    assert paid.json()["amount"] == MAX_PRICE * 99
    refund = shop.client.post(f"/api/v1/payments/{paid.json()['id']}/refunds", json={"amount": 2**31 + 5},
                              headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert refund.status_code in (201, 409), refund.text  # the refund policy (item 1) may refuse, never 500
    shop.kernel.relay_until_idle()
    assert shop.client.get(f"/api/v1/orders/{order.json()['id']}", headers=headers).json()["total"] == MAX_PRICE * 99


def test_search_index_keeps_a_price_beyond_32_bits(shop: Shop) -> None:
    from ecommerce.modules.catalog.rules import MAX_PRICE

    stocked(shop.kernel, 3, price=MAX_PRICE, name="Platinum tiara")
    shop.kernel.relay_until_idle()
    hits = shop.client.get("/api/v1/search", params={"q": "tiara"}).json()["items"]
    assert [hit["price"] for hit in hits] == [MAX_PRICE]



def test_a_search_cursor_whose_score_is_not_a_finite_number_is_400(shop: Shop) -> None:
    stocked(shop.kernel, 3, name="Granite anvil")
    shop.kernel.relay_until_idle()
    for score in ("x", 2**70, float("inf"), float("nan"), True):
        cursor = base64.urlsafe_b64encode(json.dumps({"v": score, "id": 1}).encode()).decode().rstrip("=")
        assert_problem(shop.client.get("/api/v1/search", params={"q": "anvil", "cursor": cursor}), 400, "cursor")
    cursor = _cursor({"v": -3.5, "id": 1})
    assert shop.client.get("/api/v1/search", params={"q": "anvil", "cursor": cursor}).status_code == 200
