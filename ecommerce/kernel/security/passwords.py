"""Password hashing with argon2id (argon2-cffi), parameters from the users module's settings (OWASP: m=19 MiB,
t=2, p=1).

``needs_rehash`` lets login upgrade old hashes transparently when the parameters are raised.
"""

from __future__ import annotations

from functools import cached_property

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    def __init__(self, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)

    @cached_property
    def _dummy(self) -> str:
        """Verified against when the email is unknown, so both paths cost the same (no user enumeration).
        Made on first use, not at start-up: one hash is a few tens of ms at the production parameters, paid
        by every process that starts (each command, worker and test server), most of which never log in."""
        return self._argon2.hash("not-a-real-password")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, hashed: str | None, password: str) -> bool:
        dummy = self._dummy  # made by the first verify whichever the path, so the first calls cost the same too
        try:
            return self._argon2.verify(hashed or dummy, password) and hashed is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        return self._argon2.check_needs_rehash(hashed)
