"""Signed access tokens (JWT, HS256) with every registered claim required and the algorithm pinned.

Why the kernel owns verification: the gateway validates tokens statelessly for every module; only the
users module *issues* them and keeps the key ring. Keys carry a ``kid``: a new key can start signing
while tokens signed by the previous one stay valid until they expire, so rotation logs nobody out.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jwt

from ecommerce.kernel.errors import Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "sid", "jti", "typ", "iss", "aud", "iat", "nbf", "exp")
RING_MAX_AGE = 60.0  # seconds before the signer looks for a newly rotated key
UNKNOWN_KID_RELOAD_INTERVAL = 5.0  # at most one reload per this many seconds on unknown kids
#: The shape of each claim :meth:`TokenSigner.issue` writes. A signature proves who made a token, not
#: that its values are sane: a leaked key or an issuer bug must meet a 401 here, not a 500 deeper down.
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime can hold
MAX_ID = 2**63 - 1  # the largest row id either database stores
SUBJECT = re.compile(r"[1-9][0-9]{0,18}")  # a positive row id in ASCII digits, no sign, space or exponent
IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,64}")  # sid and jti: what ``secrets``/``uuid`` produce, stored in 64
ROLE = re.compile(r"[a-z_]{1,32}")


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


@dataclass(frozen=True)
class KeyRing:
    """Verification keys by ``kid`` and the one that signs new tokens."""

    keys: Mapping[str, bytes]
    active_kid: str

    def __post_init__(self) -> None:
        if self.active_kid not in self.keys:
            raise ValueError(f"active key {self.active_kid!r} is not in the key ring")


def derive_key(secret: str, purpose: str) -> bytes:
    """A separate 256-bit key per purpose from the one application secret."""
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()


def _timestamp(value: object) -> int:
    """A time claim as whole seconds since 1970, up to year 9999; ``bool`` and ``float`` are refused."""
    if type(value) is not int or not 0 <= value <= MAX_TIMESTAMP:
        raise Unauthorized("The access token is invalid.")
    return value


class TokenSigner:
    """Issues access tokens with the active key; verifies them with any key of the ring."""

    def __init__(
        self,
        ring: KeyRing,
        *,
        issuer: str,
        audience: str,
        ttl: int,
        leeway: int = 30,
        loader: Callable[[], KeyRing] | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.leeway = leeway
        self._ring = ring
        self._loader = loader
        self._loaded_at = float("-inf") if loader else time.monotonic()
        self._last_miss = float("-inf")
        self._lock = threading.Lock()

    def use_loader(self, loader: Callable[[], KeyRing]) -> None:
        """Take keys from ``loader`` (the users module's key table) from now on, loading lazily."""
        with self._lock:
            self._loader = loader
            self._loaded_at = float("-inf")

    def reload(self) -> KeyRing:
        if self._loader is not None:
            ring = self._loader()
            with self._lock:
                self._ring, self._loaded_at = ring, time.monotonic()
        return self._ring

    def ring(self) -> KeyRing:
        if self._loader is not None and time.monotonic() - self._loaded_at > RING_MAX_AGE:
            return self.reload()
        return self._ring

    def issue(self, *, user_id: int, role: str, session_id: str, now: datetime.datetime | None = None) -> str:
        ring = self.ring()
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
        return jwt.encode(claims, ring.keys[ring.active_kid], algorithm=ALGORITHM, headers={"kid": ring.active_kid})

    def _key_for(self, kid: object) -> bytes | None:
        if not isinstance(kid, str):
            return None
        key = self.ring().keys.get(kid)
        may_reload = self._loader is not None and time.monotonic() - self._last_miss > UNKNOWN_KID_RELOAD_INTERVAL
        if key is None and may_reload:
            self._last_miss = time.monotonic()  # another worker may have rotated: look once, not per request
            key = self.reload().keys.get(kid)
        return key

    def verify(self, token: str) -> Principal:
        """Return the principal or raise :class:`Unauthorized` with a reason safe to show."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM:
                raise Unauthorized("The access token uses an unsupported algorithm.")
            key = self._key_for(header.get("kid"))
            if key is None:
                raise Unauthorized("The access token was signed with an unknown key.")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
                leeway=self.leeway,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("The access token is not valid yet.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The access token is invalid.") from None
        if claims.get("typ") != "access":
            raise Unauthorized("The token is not an access token.")
        return self._principal(claims)

    def _principal(self, claims: Mapping[str, object]) -> Principal:
        """The principal of verified claims, each within the range an issued token has; else 401.

        PyJWT accepts any time claim ``int()`` takes (``"99"``, ``1e20``, ``True``) and any string
        subject: an ``exp`` of 10^20 passed it and then broke ``datetime`` (a 500). A lower
        ``ECOMMERCE_ACCESS_TOKEN_TTL`` also refuses tokens issued under a longer one (they refresh)."""
        iat, nbf, exp = (_timestamp(claims[name]) for name in ("iat", "nbf", "exp"))
        latest_exp = time.time() + self.ttl + self.leeway  # we never issue a token that lives longer
        if iat > exp or nbf > exp or exp > latest_exp:
            raise Unauthorized("The access token is invalid.")
        sub, sid, jti, role = claims["sub"], claims["sid"], claims["jti"], claims.get("role", "customer")
        if not (isinstance(sub, str) and SUBJECT.fullmatch(sub) and int(sub) <= MAX_ID):
            raise Unauthorized("The access token is invalid.")
        for value, shape in ((sid, IDENTIFIER), (jti, IDENTIFIER), (role, ROLE)):
            if not (isinstance(value, str) and shape.fullmatch(value)):
                raise Unauthorized("The access token is invalid.")
        return Principal(
            user_id=int(sub),
            role=str(role),
            session_id=str(sid),
            token_id=str(jti),
            expires_at=datetime.datetime.fromtimestamp(exp, datetime.UTC).replace(tzinfo=None),
        )
