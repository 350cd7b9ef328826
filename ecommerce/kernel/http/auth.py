"""Authentication guards for any module's routes: ``@authenticated`` and ``@admin_only`` (what
``@endpoint(auth="user")`` and ``@endpoint(auth="admin")`` put before the handler).

The token is verified by the kernel (stateless JWT); the modules' extra checks (revoked session,
suspended user) run in the thread pool because they may touch a database.
"""

from __future__ import annotations

from sanic import Request

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.errors import Forbidden, Unauthorized
from ecommerce.kernel.http import throttle
from ecommerce.kernel.http.checks import check_first
from ecommerce.kernel.security.tokens import Principal


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


async def _signed(request: Request) -> None:
    await authenticate(request)


async def _admin(request: Request) -> None:
    if not (await authenticate(request)).is_admin:
        raise Forbidden("This route needs the admin role.")


#: The route needs a valid access token (401 without one).
authenticated = check_first(_signed)
#: The route needs an access token of an admin (401 without a token, 403 for anyone else).
admin_only = check_first(_admin)
