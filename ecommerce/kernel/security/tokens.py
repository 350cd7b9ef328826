"""Signed access tokens (JWT, HS256) with every registered claim checked and the algorithm pinned.

Why the kernel owns this: the gateway validates tokens statelessly for every module; only the users
module *issues* them. Keys carry a ``kid`` so a key ring can rotate keys without logging anyone out.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import jwt

from ecommerce.kernel.errors import Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "sid", "jti", "typ", "iss", "aud", "iat", "nbf", "exp")


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the access token says."""

    user_id: int
    role: str
    session_id: str
    token_id: str
    expires_at: datetime.datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def derive_key(secret: str, purpose: str) -> bytes:
    """A separate key per purpose from the one application secret."""
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()


class TokenSigner:
    """Issues and verifies access tokens with the active key; verifies with any key in the ring."""

    def __init__(self, keys: Mapping[str, bytes], active_kid: str, issuer: str, audience: str, ttl: int) -> None:
        if active_kid not in keys:
            raise ValueError(f"active key {active_kid!r} is not in the key ring")
        self.keys = dict(keys)
        self.active_kid = active_kid
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl

    def issue(self, *, user_id: int, role: str, session_id: str, now: datetime.datetime | None = None) -> str:
        moment = now or datetime.datetime.now(datetime.UTC)
        claims = {
            "sub": str(user_id),
            "sid": session_id,
            "jti": uuid.uuid4().hex,
            "typ": "access",
            "role": role,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": moment,
            "nbf": moment,
            "exp": moment + datetime.timedelta(seconds=self.ttl),
        }
        return jwt.encode(claims, self.keys[self.active_kid], algorithm=ALGORITHM, headers={"kid": self.active_kid})

    def verify(self, token: str) -> Principal:
        """Return the principal or raise :class:`Unauthorized` with a reason safe to show."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise Unauthorized("The access token was signed with an unknown key.")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The access token is invalid.") from None
        if claims.get("typ") != "access":
            raise Unauthorized("The token is not an access token.")
        try:
            user_id = int(claims["sub"])
        except (TypeError, ValueError):
            raise Unauthorized("The access token is invalid.") from None
        return Principal(
            user_id=user_id,
            role=str(claims.get("role", "customer")),
            session_id=str(claims["sid"]),
            token_id=str(claims["jti"]),
            expires_at=datetime.datetime.fromtimestamp(claims["exp"], datetime.UTC).replace(tzinfo=None),
        )
