"""CSRF tokens: a random token in an HttpOnly cookie, repeated in every form (a hidden field) and in
htmx requests (a header); a state-changing request whose two copies differ is refused.

Why double submit with a random cookie: another site can make the browser send the cookie but cannot
read it, so it cannot put the same value in the form; SameSite=Lax keeps the cookie off cross-site
POSTs anyway. The token is the same before and after logging in, so a form opened before still works.
"""

from __future__ import annotations

import hmac
import re
import secrets

COOKIE = "sf_csrf"
FIELD = "csrf"
HEADER = "x-csrf-token"
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def well_formed(token: str | None) -> bool:
    return bool(token) and _SHAPE.fullmatch(token or "") is not None


def matches(cookie: str | None, sent: str | None) -> bool:
    """True when the request carries the cookie's token (compared in constant time)."""
    if not well_formed(cookie) or not sent:
        return False
    return hmac.compare_digest(str(cookie).encode(), sent.encode())
