"""Throttling at the gateway: bursts get 429 with Retry-After and RateLimit-* headers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.api import assert_problem
from tests.support.processes import serving
from tests.support.services import require_redis
from tests.support.shop import Shop

LOGIN = "/api/v1/auth/login"
BAD_LOGIN = {"email": "nobody@example.com", "password": "wrong-password-1"}


def assert_throttled(response: httpx.Response, limit: int) -> None:
    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"


def test_login_burst_gets_429(shop_factory: Any) -> None:
    shop: Shop = shop_factory(auth_rate_limit="3/minute")
    answers = [shop.client.post(LOGIN, json=BAD_LOGIN) for _ in range(3)]
    assert [r.status_code for r in answers] == [401, 401, 401]
    assert [r.headers["ratelimit-remaining"] for r in answers] == ["2", "1", "0"]
    assert_throttled(shop.client.post(LOGIN, json=BAD_LOGIN), 3)
    assert_throttled(shop.client.post("/api/v1/auth/register", json={}), 3)  # same bucket: credential routes
    assert shop.client.get("/healthz").status_code == 200  # probes are never throttled


def test_per_ip_limit_on_every_api_route(shop_factory: Any) -> None:
    shop: Shop = shop_factory(rate_limit="4/minute")
    assert [shop.client.get("/api/v1/users/me").status_code for _ in range(4)] == [401] * 4
    assert_throttled(shop.client.get("/api/v1/users/me"), 4)


def test_per_user_limit(shop_factory: Any) -> None:
    shop: Shop = shop_factory(user_rate_limit="3/minute")
    _, tokens = shop.account()
    me = [shop.client.get("/api/v1/users/me", headers=shop.headers(tokens)).status_code for _ in range(3)]
    assert me == [200] * 3
    assert_throttled(shop.client.get("/api/v1/users/me", headers=shop.headers(tokens)), 3)
    _, other = shop.account()
    assert shop.client.get("/api/v1/users/me", headers=shop.headers(other)).status_code == 200


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(shop_factory: Any) -> None:
    shop: Shop = shop_factory(auth_rate_limit="2/minute")
    codes = [
        shop.client.post(LOGIN, json=BAD_LOGIN, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]
    assert codes == [401, 401, 429]


def test_forwarded_for_from_a_trusted_proxy_is_the_client(shop_factory: Any) -> None:
    shop: Shop = shop_factory(auth_rate_limit="2/minute", trusted_proxies=("127.0.0.1/32",))
    spread = [
        shop.client.post(LOGIN, json=BAD_LOGIN, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(4)
    ]
    assert spread == [401] * 4  # four clients behind the proxy, one attempt each
    # The left-most entry is the client's own claim: only the hop the proxy appended counts.
    one = {"X-Forwarded-For": "198.51.100.7, 203.0.113.50"}
    same = [shop.client.post(LOGIN, json=BAD_LOGIN, headers=one).status_code for _ in range(3)]
    assert same == [401, 401, 429]


def test_redis_backed_limit_in_process(shop_factory: Any) -> None:
    url = require_redis()
    shop: Shop = shop_factory(auth_rate_limit="2/minute", redis_url=url, rate_limit_namespace=uuid.uuid4().hex)
    assert [shop.client.post(LOGIN, json=BAD_LOGIN).status_code for _ in range(3)] == [401, 401, 429]


def _burst(base: str, count: int) -> list[int]:
    codes = []
    for _ in range(count):
        with httpx.Client(base_url=base, timeout=10) as c:  # a new connection each time: any worker may answer
            codes.append(c.post(LOGIN, json=BAD_LOGIN).status_code)
    return codes


def test_redis_limit_holds_across_two_server_workers(tmp_path: Path) -> None:
    """Each request opens a new connection, so either worker may answer it; with in-process counters
    the two workers would allow up to 10 of these 12 attempts, with Redis exactly 5 pass."""
    extra = {
        "ECOMMERCE_AUTH_RATE_LIMIT": "5/minute",
        "ECOMMERCE_RATE_LIMIT_NAMESPACE": uuid.uuid4().hex,
        "ECOMMERCE_REDIS_URL": require_redis(),
    }
    with serving(tmp_path, "--workers", "2", **extra) as base:
        codes = _burst(base, 12)
    assert codes.count(401) == 5 and codes.count(429) == 7, codes
