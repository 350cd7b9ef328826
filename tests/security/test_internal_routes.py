"""``/internal/<module>/<function>``: only for a service holding a fresh token addressed to this service.

A token is refused when it is missing, made for another service, signed with another secret, expired,
claiming more than a minute of life, or used a second time; the routes are in no OpenAPI document and
the nginx gateway answers 404 for them whatever the layout.
"""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from ecommerce.gateway.nginx import HIDDEN
from ecommerce.kernel.remote.client import INTERNAL_PREFIX
from ecommerce.kernel.remote.tokens import ServiceTokens
from ecommerce.kernel.security.tokens import derive_key
from tests.support.api import assert_problem
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
CALL = f"{INTERNAL_PREFIX}/users/find_user"
BODY = {"args": [1], "kwargs": {}}


def _post(client: httpx.Client, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(CALL, json=BODY, headers=headers)


def _secret(live: LiveServer) -> str:
    secret: str = live.app.ctx.kernel.secret
    return secret


def test_a_fresh_token_for_this_service_is_served_once(live: LiveServer, client: httpx.Client) -> None:
    token = ServiceTokens(_secret(live), "core").issue("app")
    first = _post(client, token)
    assert first.status_code == 200 and first.json() == {"result": None}  # no user 1 yet: find_user is None
    replay = assert_problem(_post(client, token), 401)
    assert "already used" in replay["detail"]


@pytest.mark.parametrize("case", ["missing", "other-audience", "other-secret", "expired", "long-lived",
                                  "access-token-shape", "basic"])
def test_every_other_token_is_refused(live: LiveServer, client: httpx.Client, case: str) -> None:
    secret, now = _secret(live), int(time.time())
    key = derive_key(secret, "internal:app")
    claims = {"iss": "core", "aud": "app", "typ": "service", "iat": now, "exp": now + 30, "jti": f"j-{case}"}
    tokens = {
        "missing": None,
        "other-audience": ServiceTokens(secret, "core").issue("catalog"),
        "other-secret": ServiceTokens("another-secret-" + "y" * 40, "core").issue("app"),
        "expired": jwt.encode({**claims, "iat": now - 120, "exp": now - 60}, key, algorithm="HS256"),
        "long-lived": jwt.encode({**claims, "exp": now + 3600}, key, algorithm="HS256"),
        "access-token-shape": jwt.encode({**claims, "typ": "access"}, key, algorithm="HS256"),
        "basic": None,
    }
    if case == "basic":
        response = client.post(CALL, json=BODY, headers={"Authorization": "Basic Y29yZTpzZWNyZXQ="})
    else:
        response = _post(client, tokens[case])
    assert_problem(response, 401)


def test_only_remotable_functions_of_hosted_modules(live: LiveServer, client: httpx.Client) -> None:
    tokens = ServiceTokens(_secret(live), "core")
    for path in ("/internal/users/service", "/internal/users/user_view", "/internal/nope/find_user"):
        response = client.post(path, json=BODY, headers={"Authorization": f"Bearer {tokens.issue('app')}"})
        assert_problem(response, 404)
    garbage = client.post(CALL, content=b"[1, 2", headers={"Authorization": f"Bearer {tokens.issue('app')}"})
    assert_problem(garbage, 400)


def test_not_in_the_openapi_document_and_never_through_the_gateway(client: httpx.Client) -> None:
    spec = client.get("/docs/openapi.json").json()
    assert spec["paths"] and not any(path.startswith(INTERNAL_PREFIX) for path in spec["paths"])
    assert INTERNAL_PREFIX in HIDDEN  # the nginx configuration answers 404 there (tests/e2e/test_gateway.py)
