"""Deeply nested JSON is a 400 before any parser sees it, on every route (issue 14, item 7).

About 1,000 levels in 2 KB used to raise RecursionError (a 500) in the JSON parser of /auth/login and in
the idempotency fingerprint of POST /orders and /payments, at every depth tried there.
"""

from __future__ import annotations

import base64
import uuid

import pytest

from ecommerce.kernel.limits import MAX_JSON_DEPTH
from tests.support.api import assert_problem
from tests.support.shop import Shop

DEPTHS = (MAX_JSON_DEPTH + 1, 1_000, 100_000)


def nested(fields: bytes, depth: int) -> bytes:
    """A JSON object with ``fields`` and an extra ``x`` nesting it to ``depth`` levels in all."""
    inner = depth - 1
    return b"{" + fields + b',"x":' + b"[" * inner + b"]" * inner + b"}"


def _routes(shop: Shop) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
    user, tokens = shop.account()
    headers = shop.headers(tokens)
    login = f'"email":"{user["email"]}","password":"correct-horse-battery"'.encode()
    return headers, [
        ("POST", "/api/v1/auth/login", login),
        ("POST", "/api/v1/auth/register", b'"email":"deep@example.com","password":"long-enough-pw"'),
        ("POST", "/api/v1/auth/refresh", f'"refresh_token":"{tokens["refresh_token"]}"'.encode()),
        ("PATCH", "/api/v1/users/me", b'"phone":null'),
        ("POST", "/api/v1/cart/items", b'"product_id":1,"quantity":1'),
        ("POST", "/api/v1/orders", b'"address_id":1'),  # idempotent: fingerprinted before the handler
        ("POST", "/api/v1/payments", b'"order_id":1,"token_id":"tok_x"'),
        ("POST", "/api/v1/payments/1/refunds", b'"amount":1'),
        ("POST", "/api/v1/users/me/addresses", b'"street":"1 Main","city":"X","country":"US"'),
    ]


@pytest.mark.parametrize("depth", DEPTHS)
def test_nesting_deeper_than_the_limit_is_400_everywhere(shop: Shop, depth: int) -> None:
    headers, routes = _routes(shop)
    for method, path, fields in routes:
        response = shop.client.request(method, path, content=nested(fields, depth), headers={
            **headers, "content-type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
        body = assert_problem(response, 400)
        assert f"nested deeper than {MAX_JSON_DEPTH} levels" in body["detail"], (path, body)


def test_nesting_at_the_limit_is_read_as_usual(shop: Shop) -> None:
    user, _ = shop.account()
    fields = f'"email":"{user["email"]}","password":"correct-horse-battery"'.encode()
    response = shop.client.post("/api/v1/auth/login", content=nested(fields, MAX_JSON_DEPTH),
                                headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text  # the unknown field is ignored, as always
    text = b'{"email":"' + user["email"].encode() + b'","password":"correct-horse-battery","x":"' + b"[" * 5000 + b'"}'
    response = shop.client.post("/api/v1/auth/login", content=text, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text  # brackets inside a string are text, not nesting


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 2_000])  # a cursor fits in a request line
def test_a_deeply_nested_cursor_is_400(shop: Shop, depth: int) -> None:
    raw = b"[" * depth + b"]" * depth
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert_problem(shop.client.get("/api/v1/products", params={"cursor": cursor}), 400, "cursor")
