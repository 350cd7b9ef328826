"""The contract fixes found by schemathesis, each pinned by a plain HTTP test (issue 14, item 11)."""

from __future__ import annotations

import uuid

import pytest

from ecommerce.modules.users import accounts
from tests.support.api import assert_problem, login
from tests.support.catalog import stocked
from tests.support.shop import Shop


@pytest.fixture
def shop(shared_shop: Shop) -> Shop:
    """One server per layout for this module: each test reads the document or uses an account of its own."""
    return shared_shop


def test_a_page_size_above_the_maximum_is_refused_and_documented(shop: Shop) -> None:
    _, tokens = shop.account()
    headers = shop.headers(tokens)
    for path in ("/api/v1/products", "/api/v1/orders", "/api/v1/users/me/addresses", "/api/v1/notifications"):
        assert_problem(shop.client.get(path, params={"limit": 101}, headers=headers), 400, "limit")
        assert shop.client.get(path, params={"limit": 100}, headers=headers).status_code == 200
    spec = shop.client.get("/docs/openapi.json").json()
    limit = next(p for p in spec["paths"]["/api/v1/products"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["minimum"] == 1 and limit["schema"]["maximum"] == 100


def test_a_405_names_the_allowed_methods_on_paths_with_parameters(shop: Shop) -> None:
    for method, path in (("PUT", "/api/v1/products/1"), ("TRACE", "/api/v1/orders/7/cancel"),
                         ("POST", "/problems/not-found")):
        response = shop.client.request(method, path)
        assert_problem(response, 405)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert method not in allowed and allowed
    assert {"GET", "PATCH", "DELETE"} <= {m.strip() for m in
                                          shop.client.put("/api/v1/products/1").headers["allow"].split(",")}


@pytest.mark.parametrize("key", ["", "a b", "x" * 256, "caf\u00e9".encode(), "tab\tkey"])
def test_an_idempotency_key_outside_the_documented_pattern_is_refused(shop: Shop, key: str | bytes) -> None:
    _, tokens = shop.account()
    headers = {**shop.headers(tokens), "Idempotency-Key": key}
    response = shop.client.post("/api/v1/orders", json={"address_id": 1}, headers=headers)
    assert_problem(response, 400, "Idempotency-Key")


def test_units_beyond_a_full_cart_line_are_a_conflict_not_bad_input(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 500)
    _, tokens = shop.account()
    headers = shop.headers(tokens)
    assert shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 99},
                            headers=headers).status_code == 200
    body = assert_problem(shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1},
                                           headers=headers), 409)
    assert "99" in body["detail"]


def test_a_notification_id_that_is_not_a_canonical_uuid_is_not_found(shop: Shop) -> None:
    _, tokens = shop.account()
    headers = shop.headers(tokens)
    for bad in ("0", "{" + str(uuid.uuid4()) + "}", uuid.uuid4().hex, "urn:uuid:" + str(uuid.uuid4())):
        assert_problem(shop.client.post(f"/api/v1/notifications/{bad}/read", headers=headers), 404)
    assert_problem(shop.client.post(f"/api/v1/notifications/{uuid.uuid4()}/read", headers=headers), 404)


@pytest.mark.parametrize("phone", ["+1415555\u0661\u0662\u0663\u0664", "+14155550123\n"])
def test_a_phone_number_takes_ascii_digits_only(shop: Shop, phone: str) -> None:
    _, tokens = shop.account()
    response = shop.client.patch("/api/v1/users/me", json={"phone": phone}, headers=shop.headers(tokens))
    assert_problem(response, 400, "phone")


def test_required_address_fields_cannot_be_cleared_with_null(shop: Shop) -> None:
    _, tokens = shop.account()
    headers = shop.headers(tokens)
    created = shop.client.post("/api/v1/users/me/addresses", headers=headers, json={
        "street": "1 Main St", "city": "Springfield", "country": "us"}).json()
    assert created["country"] == "US"
    for field in ("street", "city", "country"):
        response = shop.client.patch(f"/api/v1/users/me/addresses/{created['id']}", json={field: None},
                                     headers=headers)
        assert_problem(response, 400, field)


def test_every_route_documents_its_error_answers(shop: Shop) -> None:
    """429 everywhere under /api, 401 where a token is needed, 403 on admin routes, 400 for any input."""
    admin, _ = shop.account()
    shop.kernel.runner.call(accounts.set_role, admin["id"], "admin")
    login(shop.client, admin["email"])
    spec = shop.client.get("/docs/openapi.json").json()
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in methods.items():
            codes = set(operation["responses"])
            label = f"{method.upper()} {path}"
            assert "429" in codes, label
            if operation.get("security"):
                assert "401" in codes, label
            if "(admin" in operation.get("summary", ""):
                assert "403" in codes, label
            takes_input = operation.get("requestBody") or any(
                p["in"] in ("query", "header") for p in operation.get("parameters", []))
            if takes_input:
                assert "400" in codes, label
            for code, answer in operation["responses"].items():
                if code.startswith(("4", "5")):
                    assert "application/problem+json" in answer["content"], label


def test_a_blank_query_value_is_validated_not_ignored(shop: Shop) -> None:
    """``?min_price=`` was dropped by the framework and read as "not sent"; the contract says integer."""
    for path, params in (("/api/v1/search", {"q": "shoe", "min_price": ""}), ("/api/v1/products", {"brand": ""}),
                         ("/api/v1/products", {"limit": ""}), ("/api/v1/products", {"sort": ""})):
        field = next(name for name, value in params.items() if value == "")
        assert_problem(shop.client.get(path, params=params), 400, field)
    assert shop.client.get("/api/v1/products", params={"cursor": ""}).status_code == 200
