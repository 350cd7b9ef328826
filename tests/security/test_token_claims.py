"""Correctly signed tokens whose claims are out of range: every one is a 401 problem, never a 500.

The forged-token tests prove a token we did not sign is refused. These sign with the live key, as a
leaked key or a bug in the issuer would, and put each claim out of the range an honest token has:
huge, negative, fractional, textual or of another JSON type. The guard must refuse them cleanly on every
route that reads a token (``GET /users/me``, ``POST /auth/logout`` which stores the ``jti``), and the
refresh route must refuse any opaque refresh token it did not issue.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt

from tests.support.api import assert_problem, bearer, login
from tests.support.shop import Shop

ME = "/api/v1/users/me"
LOGOUT = "/api/v1/auth/logout"
REFRESH = "/api/v1/auth/refresh"


def _times(now: int) -> dict[str, list[Any]]:
    """Out-of-range values for a time claim (``now`` is the honest value's second)."""
    return {
        "exp": [
            10**20, -(10**20), 2**63, 2**64 + 1, 10**400, -1, 0, float(now + 600), 1e20, 1e308,
            str(now + 600), "99999999999999999999", True, None, [now + 600], {"at": now + 600},
            now + 10 * 365 * 86400,  # far beyond any lifetime we issue
        ],
        "iat": [
            10**20, -(10**20), -1, 2**64 + 1, float(now), -1e20, str(now), "-99999999999999999999", True, [now],
            now + 10 * 365 * 86400,
        ],
        "nbf": [
            10**20, -(10**20), -1, 2**64 + 1, float(now), -1e20, str(now), "-99999999999999999999", True, [now],
        ],
    }


def out_of_range(user_id: int, now: int) -> list[tuple[str, Any]]:
    cases: list[tuple[str, Any]] = [(claim, value) for claim, values in _times(now).items() for value in values]
    cases += [
        ("sub", value)
        for value in [
            "0", "-1", "99999999999999999999", str(2**63), "1e3", f" {user_id}", f"{user_id}\x00", "1_0",
            "\uff11", "\u0661", "", user_id, 10**20, [str(user_id)], None,
        ]
    ]
    cases += [("sid", value) for value in [10**20, ["x"], "s" * 5000, "\x00", "", None]]
    cases += [("jti", value) for value in ["j" * 65, "j" * 5000, "\x00", "", 10**20, ["j"], None]]
    cases += [("typ", value) for value in [["access"], 1, "ACCESS", None]]
    cases += [("role", value) for value in ["admin" * 1000, ["admin"], 1, {"r": "admin"}, "", None]]
    cases += [("iss", value) for value in [["x"], 10**20]]
    cases += [("aud", value) for value in [[["x"]], 10**20, {}]]
    return cases


def sign(claims: dict[str, Any], key: bytes, kid: Any) -> str:
    """HS256 by hand, so any JSON value (and any number) can go into any claim or the ``kid``."""
    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=")

    import hashlib
    import hmac

    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": kid}) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(key, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


def refused(shop: Shop, token: str) -> list[str]:
    """What went wrong (empty when every route that reads the token answers a clean 401)."""
    problems = []
    for method, path in (("GET", ME), ("POST", LOGOUT)):
        response = shop.client.request(method, path, headers=bearer(token))
        try:
            assert_problem(response, 401)
        except AssertionError:
            problems.append(f"{method} {path} -> {response.status_code} {response.text[:120]}")
    return problems


def check_all(shop: Shop, email: str, cases: list[tuple[str, Callable[[dict[str, Any]], str]]]) -> None:
    """Each case signs its token from the claims of a fresh session: a token wrongly accepted by the
    logout route ends its session, and must not make the next case pass for the wrong reason."""
    failures = []
    for label, make in cases:
        honest = jwt.decode(login(shop.client, email)["access_token"], options={"verify_signature": False})
        failures += [f"{label}: {problem}" for problem in refused(shop, make(honest))]
    assert not failures, "\n".join(failures)


def test_every_claim_out_of_range_is_401(shop: Shop) -> None:
    user, tokens = shop.account()
    honest = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    ring = shop.kernel.tokens.ring()
    kid, key = ring.active_kid, ring.keys[ring.active_kid]
    now = int(time.time())
    base = {**honest, "iat": now, "nbf": now, "exp": now + 600}
    assert shop.client.get(ME, headers=bearer(sign(base, key, kid))).status_code == 200  # the baseline passes

    def timed(claims: dict[str, Any]) -> dict[str, Any]:
        return {**claims, "iat": now, "nbf": now, "exp": now + 600}

    cases: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (f"{claim}={value!r:.40}", lambda c, claim=claim, value=value: sign({**timed(c), claim: value}, key, kid))
        for claim, value in out_of_range(user["id"], now)
    ]
    cases += [
        (f"kid={value!r:.40}", lambda c, value=value: sign(timed(c), key, value))
        for value in [10**20, "k" * 5000, ["kid"], None, "\x00"]
    ]
    check_all(shop, user["email"], cases)
    # None of them logged the honest session out, or got stored: the real token still works.
    assert shop.client.get(ME, headers=shop.headers(tokens)).status_code == 200


def test_a_refresh_token_we_did_not_issue_is_refused_cleanly(shop: Shop) -> None:
    """Refresh tokens are opaque: a string we never issued is a 401 (400 if it is not even valid text);
    a value that is not a string, or longer than any we issue, is a 400."""
    _, tokens = shop.account()
    failures = []
    strings = {
        "": 401, "x" * 512: 401, tokens["access_token"][:512]: 401, tokens["refresh_token"][:-1]: 401,
        "\x00": 400, tokens["refresh_token"] + "\x00": 400, "\ud800": 400, tokens["refresh_token"] + "\udfff": 400,
    }
    for value, status in strings.items():
        body = json.dumps({"refresh_token": value})  # a lone surrogate travels escaped, as \\ud800
        response = shop.client.post(REFRESH, content=body, headers={"content-type": "application/json"})
        if response.status_code != status or not response.headers["content-type"].startswith("application/problem"):
            failures.append(f"{value[:20]!r}: {response.status_code} {response.text[:120]}")
    for other in [10**20, -1, 1.5, True, None, ["x"], {"t": "x"}, "x" * 513]:
        response = shop.client.post(REFRESH, json={"refresh_token": other})
        if response.status_code != 400:
            failures.append(f"{other!r:.20}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)
    # The honest refresh token still works after all of that.
    assert shop.client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).status_code == 200
