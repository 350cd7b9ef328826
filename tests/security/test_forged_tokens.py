"""Every kind of forged, stale or tampered access token gets 401; honest clock skew does not."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.api import assert_problem, bearer
from tests.support.shop import Shop


@pytest.fixture
def shop(shared_shop: Shop) -> Shop:
    """One server per layout for this module: each test forges tokens for an account of its own."""
    return shared_shop

ME = "/api/v1/users/me"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def honest_claims(shop: Shop) -> tuple[dict[str, Any], str, bytes]:
    """Claims of a real, valid session, plus the live signing key and its kid."""
    _, tokens = shop.account()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    ring = shop.kernel.tokens.ring()
    return claims, ring.active_kid, ring.keys[ring.active_kid]


def seconds(n: float) -> datetime.datetime:
    """Now plus ``n`` seconds, computed when the token is built (not at import)."""
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=n)


def sign(claims: dict[str, Any], key: Any, kid: str, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _alg_none(c: dict[str, Any], kid: str, key: bytes) -> str:
    return jwt.encode(c, None, algorithm="none", headers={"kid": kid})


def _pem_as_hmac_secret(c: dict[str, Any], kid: str, key: bytes) -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT","kid":"%s"}' % kid.encode())
    plain = {k: int(v.timestamp()) if isinstance(v, datetime.datetime) else v for k, v in c.items()}
    payload = jwt.utils.base64url_encode(json.dumps(plain).encode())
    signature = hmac.new(RSA_PUBLIC_PEM, header + b"." + payload, hashlib.sha256).digest()
    return b".".join([header, payload, jwt.utils.base64url_encode(signature)]).decode()


def _flip_one_byte(c: dict[str, Any], kid: str, key: bytes) -> str:
    token = sign(c, key, kid)
    head, payload, signature = token.split(".")
    middle = len(payload) // 2
    flipped = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1 :]
    return f"{head}.{flipped}.{signature}"


def _without(claim: str) -> Callable[[dict[str, Any], str, bytes], str]:
    return lambda c, kid, key: sign({k: v for k, v in c.items() if k != claim}, key, kid)


def _with(**changes: Any) -> Callable[[dict[str, Any], str, bytes], str]:
    """Claims replaced when the token is signed; a callable value (a time) is evaluated then, not at import:
    a time fixed at collection drifts into the past on a long run and the forgery would become honest."""
    return lambda c, kid, key: sign({**c, **{k: v() if callable(v) else v for k, v in changes.items()}}, key, kid)


FORGERIES: dict[str, Callable[[dict[str, Any], str, bytes], str]] = {
    "alg none": _alg_none,
    "wrong key": lambda c, kid, key: sign(c, b"k" * 32, kid),
    "RS256 (asymmetric) token": lambda c, kid, key: sign(c, RSA_KEY, kid, "RS256"),
    "HS256 keyed with a public key": _pem_as_hmac_secret,
    "unknown kid": lambda c, kid, key: sign(c, key, "no-such-kid"),
    "expired": _with(iat=lambda: seconds(-3600), nbf=lambda: seconds(-3600), exp=lambda: seconds(-600)),
    "nbf in the future": _with(nbf=lambda: seconds(600)),
    "wrong audience": _with(aud="another-api"),
    "wrong issuer": _with(iss="https://evil.example"),
    "missing exp": _without("exp"),
    "missing jti": _without("jti"),
    "missing sid": _without("sid"),
    "refresh-typed token": _with(typ="refresh"),
    "one flipped byte": _flip_one_byte,
    "someone else's subject": _with(sub="999999"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_token_is_refused(shop: Shop, forgery: str) -> None:
    claims, kid, key = honest_claims(shop)
    claims = {**claims, "exp": seconds(600), "iat": seconds(0), "nbf": seconds(0)}
    token = FORGERIES[forgery](claims, kid, key)
    assert_problem(shop.client.get(ME, headers=bearer(token)), 401)


def test_the_honest_token_passes(shop: Shop) -> None:
    claims, kid, key = honest_claims(shop)
    token = sign({**claims, "exp": seconds(600), "iat": seconds(0), "nbf": seconds(0)}, key, kid)
    assert shop.client.get(ME, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "skew",
    [
        (25, 900),  # the issuer's clock 25 s ahead of ours: not valid yet by our clock
        (-900, -25),  # expired 25 s ago by our clock
    ],
)
def test_thirty_seconds_of_clock_skew_are_tolerated(shop: Shop, skew: tuple[int, int]) -> None:
    claims, kid, key = honest_claims(shop)
    start, end = skew
    token = sign({**claims, "iat": seconds(start), "nbf": seconds(start), "exp": seconds(end)}, key, kid)
    assert shop.client.get(ME, headers=bearer(token)).status_code == 200
