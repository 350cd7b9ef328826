"""Authentication guards for any module's routes: ``@authenticated`` and ``@admin_only``.

The token is verified by the kernel (stateless JWT); the modules' extra checks (revoked session,
suspended user) run in the thread pool because they may touch a database.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sanic import HTTPResponse, Request

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.errors import Forbidden, Unauthorized
from ecommerce.kernel.http import throttle
from ecommerce.kernel.security.tokens import Principal

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[HTTPResponse]])


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token as 'Authorization: Bearer <token>'.")
    return token.strip()


async def authenticate(request: Request) -> Principal:
    kernel = request.app.ctx.kernel
    token = bearer_token(request)
    # A token checked in the last few seconds is trusted from memory, without the thread-pool hop and
    # the session query (kernel/security/principal_cache.py says how revocation still applies).
    remembered: Principal | None = kernel.principals.get(token)
    found: Principal = remembered if remembered is not None else await run_sync(kernel.authenticate, token)
    request.ctx.principal = found
    await throttle.hit(request, "user", str(found.user_id))
    return found


def principal(request: Request) -> Principal:
    """The caller of a guarded route."""
    found: Principal | None = getattr(request.ctx, "principal", None)
    if found is None:
        raise Unauthorized()
    return found


def authenticated(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        await authenticate(request)
        return await handler(request, *args, **kwargs)

    return guarded  # type: ignore[return-value]


def admin_only(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        found = await authenticate(request)
        if not found.is_admin:
            raise Forbidden("This route needs the admin role.")
        return await handler(request, *args, **kwargs)

    return guarded  # type: ignore[return-value]
