"""Access tokens that passed every principal check moments ago, remembered for a few seconds.

Why: each authenticated request verified the JWT and ran the modules' checks (session open, token not
blocked, user active, role unchanged) — one indexed query, and a hop to the thread pool that costs more
than the query — before the handler did any work. A token seen in the last ``ttl`` seconds
(``ECOMMERCE_SESSION_CHECK_TTL``, 5 by default, 0 turns this off) is trusted again from memory, on the
event loop: GET /cart went from 0.25k to 0.4k req/s (benchmarks/http, PostgreSQL, 1 worker).

Safety: the users module forgets a session's tokens when it is logged out or revoked, and a user's when
they are suspended, deleted, re-roled or change their password — in the process that made the change, at
once. Another worker (or instance) keeps its entry until it expires: **there, a revocation takes effect
within ``ttl`` seconds**, not on the very next request. A check racing with a revocation cannot store a
stale entry: every forget bumps a generation, and an entry computed under an older generation is dropped.
"""

from __future__ import annotations

import threading

from cachetools import TTLCache

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.security.tokens import Principal


class PrincipalCache:
    def __init__(self, ttl: float, maxsize: int = 50_000) -> None:
        self.ttl = ttl
        self._entries: TTLCache[str, Principal] = TTLCache(maxsize=maxsize, ttl=ttl or 1)
        self._lock = threading.Lock()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read before checking a token; pass to :meth:`remember`."""
        return self._generation

    def get(self, token: str) -> Principal | None:
        """The principal of a token that passed the checks less than ``ttl`` seconds ago (never expired)."""
        if self.ttl <= 0:
            return None
        with self._lock:
            found = self._entries.get(token)
        if found is None or found.expires_at <= utcnow():
            return None
        return found

    def remember(self, token: str, principal: Principal, generation: int) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if generation == self._generation:  # nothing was revoked while the checks ran
                self._entries[token] = principal

    def forget(self, *, user_id: int | None = None, session_id: str | None = None) -> None:
        """Drop the tokens of a session, or of every session of a user (rare: logout, suspension)."""
        with self._lock:
            self._generation += 1
            for token, principal in list(self._entries.items()):
                if principal.user_id == user_id or principal.session_id == session_id:
                    del self._entries[token]
