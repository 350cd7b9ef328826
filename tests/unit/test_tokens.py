"""Access tokens: claims, pinned algorithm, key ids, expiry."""

from __future__ import annotations

import datetime

import jwt
import pytest

from ecommerce.kernel.errors import Unauthorized
from ecommerce.kernel.security.tokens import REQUIRED_CLAIMS, KeyRing, TokenSigner, derive_key

KEY = derive_key("s" * 40, "jwt:k1")


def signer(**overrides: object) -> TokenSigner:
    keys = overrides.pop("keys", {"k1": KEY})
    kid = overrides.pop("active_kid", "k1")
    values: dict[str, object] = {"issuer": "ecommerce", "audience": "api", "ttl": 900}
    values.update(overrides)
    return TokenSigner(KeyRing(keys, kid), **values)  # type: ignore[arg-type]


def test_round_trip_carries_every_claim() -> None:
    token = signer().issue(user_id=7, role="admin", session_id="s1")
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience="api")
    assert set(REQUIRED_CLAIMS) <= set(claims)
    assert jwt.get_unverified_header(token)["kid"] == "k1"
    principal = signer().verify(token)
    assert (principal.user_id, principal.role, principal.session_id) == (7, "admin", "s1")
    assert principal.is_admin


def test_expired_token_is_refused() -> None:
    old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    token = signer().issue(user_id=1, role="customer", session_id="s", now=old)
    with pytest.raises(Unauthorized, match="expired"):
        signer().verify(token)


@pytest.mark.parametrize(
    "other",
    [
        {"audience": "someone-else"},
        {"issuer": "evil"},
        {"keys": {"k1": derive_key("t" * 40, "jwt:k1")}},
    ],
)
def test_foreign_tokens_are_refused(other: dict[str, object]) -> None:
    token = signer(**other).issue(user_id=1, role="customer", session_id="s")
    with pytest.raises(Unauthorized):
        signer().verify(token)


def test_unknown_kid_and_alg_none_are_refused() -> None:
    rotated = signer(keys={"k2": KEY}, active_kid="k2").issue(user_id=1, role="customer", session_id="s")
    with pytest.raises(Unauthorized, match="unknown key"):
        signer().verify(rotated)
    claims = jwt.decode(signer().issue(user_id=1, role="admin", session_id="s"), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        signer().verify(unsigned)


def test_token_without_required_claims_is_refused() -> None:
    now = datetime.datetime.now(datetime.UTC)
    token = jwt.encode(
        {"sub": "1", "iss": "ecommerce", "aud": "api", "exp": now + datetime.timedelta(minutes=5)},
        KEY, algorithm="HS256", headers={"kid": "k1"},
    )
    with pytest.raises(Unauthorized):
        signer().verify(token)
