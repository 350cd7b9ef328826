"""Service-to-service tokens: who calls (``iss``), whom (``aud``), for under a minute, once (``jti``).

Why signed tokens and not a shared password in a header: a captured token is worth at most its
lifetime (``TTL`` seconds, at most 60) against the one service it names, and it cannot be replayed
there (each ``jti`` is accepted once). The HMAC key of each *target* service is derived from the
application secret (``ECOMMERCE_SECRET_KEY``, the same in every service of a deployment) and the
service's name, so a token made for ``catalog`` is refused by ``notifications``. Key pairs per service
(the caller signs, the target holds only public keys) are the next step when services stop sharing a
secret; see ADR 0003.
"""

from __future__ import annotations

import threading
import time
import uuid

import jwt

from ecommerce.kernel.errors import Unauthorized
from ecommerce.kernel.security.tokens import derive_key

ALGORITHM = "HS256"
TTL = 30  # seconds a service token lives
MAX_TTL = 60  # tokens claiming a longer life are refused
LEEWAY = 5  # clock skew tolerated between the machines of one deployment
TYPE = "service"


class ServiceTokens:
    """Issue tokens as ``service`` and verify tokens addressed to it."""

    def __init__(self, secret: str, service: str) -> None:
        self.secret = secret
        self.service = service
        self._own_key = self._key(service)
        self._seen: dict[str, float] = {}  # jti -> expiry, for replay refusal
        self._lock = threading.Lock()

    def _key(self, audience: str) -> bytes:
        return derive_key(self.secret, f"internal:{audience}")

    def issue(self, audience: str, now: float | None = None) -> str:
        """A token from this service to ``audience``."""
        issued = int(now if now is not None else time.time())
        claims = {"iss": self.service, "aud": audience, "typ": TYPE, "iat": issued, "exp": issued + TTL,
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self._key(audience), algorithm=ALGORITHM)

    def verify(self, token: str) -> str:
        """The calling service's name; :class:`Unauthorized` for anything else (expired, replayed, for
        another service, too long-lived, not a service token)."""
        try:
            claims = jwt.decode(token, self._own_key, algorithms=[ALGORITHM], audience=self.service,
                                leeway=LEEWAY, options={"require": ["iss", "aud", "iat", "exp", "jti", "typ"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Invalid service token: {exc}.") from None
        if claims.get("typ") != TYPE or not isinstance(claims.get("iss"), str):
            raise Unauthorized("Not a service token.")
        if int(claims["exp"]) - int(claims["iat"]) > MAX_TTL:
            raise Unauthorized(f"Service tokens live at most {MAX_TTL} seconds.")
        self._once(str(claims["jti"]), float(claims["exp"]) + LEEWAY)
        return str(claims["iss"])

    def _once(self, jti: str, expires: float) -> None:
        now = time.time()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            if jti in self._seen:
                raise Unauthorized("Service token already used.")
            self._seen[jti] = expires
