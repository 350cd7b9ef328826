"""``@idempotent(store)``: the ``Idempotency-Key`` contract for a guarded route (see kernel/idempotency.py).

Put it *under* ``@endpoint(auth="user")`` (its guard runs first): keys are scoped to the caller.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sanic import HTTPResponse, Request
from sanic import json as json_response
from sanic_ext import openapi

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.errors import AppError, FieldError, ValidationFailed
from ecommerce.kernel.http.auth import principal
from ecommerce.kernel.http.problems import PROBLEM_JSON, app_error_body
from ecommerce.kernel.idempotency import Claim, IdempotencyStore, Owned, StoredResponse, request_hash

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[HTTPResponse]])
HEADER = "idempotency-key"
#: The attribute that marks a handler guarded by :func:`idempotent`: the gateway lets such a POST, sent
#: with its key, be retried on another instance (``ecommerce.gateway.routes``).
MARK = "ecommerce_idempotent"
#: Visible ASCII only: what every client library can send in a header unchanged (no spaces, which
#: proxies may trim, no bytes a header decoder would reinterpret), e.g. a UUID.
KEY = re.compile(r"^[!-~]{1,255}$")
PARAMETER = {"name": "Idempotency-Key", "location": "header", "required": True,
             "schema": openapi.String(minLength=1, maxLength=255, pattern=KEY.pattern),
             "description": "1-255 visible ASCII characters (e.g. a UUID); a retry with the same key and body "
                            "replays the first response"}


def _key(request: Request) -> str:
    key = request.headers.get(HEADER, "")
    if not KEY.fullmatch(key):
        raise ValidationFailed(
            "This request needs an Idempotency-Key header (1-255 visible ASCII characters).",
            errors=[FieldError("Idempotency-Key", "Required, 1-255 visible ASCII characters")],
        )
    return key


def _body(request: Request) -> Any:
    if not request.body:
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return request.body.hex()


def claim_of(request: Request) -> Claim:
    """The key an ``@idempotent`` route's request owns (to store the response in the use case's transaction)."""
    claim: Claim = request.ctx.idempotency_claim
    return claim


def pending_of(request: Request) -> Pending:
    """The key a ``@idempotent(..., deferred=True)`` route's use case claims first (:meth:`Pending.take`)."""
    pending: Pending = request.ctx.idempotency_pending
    return pending


def _claim(store: IdempotencyStore, scope: str, key: str, fingerprint: str,
           preload: Callable[[int], Any] | None, caller: int) -> tuple[StoredResponse | Owned, Any]:
    """Claim the key and, when this request owns it, run ``preload(caller)`` in the same transaction."""
    if preload is None:
        return store.claim(scope, key, fingerprint), None
    with store.database.atomic():
        stored = store.claim(scope, key, fingerprint)
        return stored, (preload(caller) if isinstance(stored, Owned) else None)


class Replay(Exception):  # not an error: the key's stored answer, on its way to the client
    """The key already has its answer (raised by :meth:`Pending.take`): the route replays it."""

    def __init__(self, stored: StoredResponse) -> None:
        super().__init__("the key's stored answer")
        self.stored = stored


@dataclass
class Pending:
    """A request's key, not claimed yet. :meth:`take` claims it (and runs the route's ``preload``) in the
    calling thread: a ``deferred`` route's use case calls it first, so the request hops into the thread pool
    once instead of twice (the claim, then the use case; each hop about 4 % of a checkout's CPU in the app)."""

    store: IdempotencyStore
    scope: str
    key: str
    fingerprint: str
    preload: Callable[[int], Any] | None
    caller: int
    claim: Claim | None = None

    def take(self) -> Claim:
        """Own the key (the claim), or raise :class:`Replay` with its answer, or the claim's 409/422."""
        stored, preloaded = _claim(self.store, self.scope, self.key, self.fingerprint, self.preload, self.caller)
        if isinstance(stored, StoredResponse):
            raise Replay(stored)
        self.claim = Claim(self.store, self.scope, self.key, stored, preloaded)
        return self.claim


def idempotent(store: IdempotencyStore, preload: Callable[[int], Any] | None = None,
               deferred: bool = False) -> Callable[[Handler], Handler]:
    """``preload(user_id)``: a read of the store's own database the handler needs anyway, done in the
    claim's transaction (on PostgreSQL a read outside a transaction is a commit of its own); the handler
    finds it in ``claim_of(request).preloaded``. ``deferred``: the route does not find its key claimed; its use
    case claims it first, in its own thread (``pending_of(request).take()``). A route that fails before that
    (its body is invalid: 400) has claimed nothing, so nothing is stored: a retry gets the same 400 again."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def once(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            key = _key(request)
            caller = principal(request).user_id
            scope = str(caller)
            fingerprint = request_hash(request.method, request.path, _body(request), request.app.ctx.idempotency_key,
                                       store.sensitive)
            pending = request.ctx.idempotency_pending = Pending(store, scope, key, fingerprint, preload, caller)
            try:
                if not deferred:
                    request.ctx.idempotency_claim = await run_sync(pending.take)
                response = await handler(request, *args, **kwargs)
            except Replay as replay:
                return _replayed(replay.stored)
            except AppError as exc:  # stored, unless a retry has taken the key over (then it answers it)
                if pending.claim is not None:
                    await run_sync(store.finish, scope, key, exc.status, app_error_body(exc, request.path),
                                   pending.claim.owned)
                raise
            except BaseException:
                if pending.claim is not None:
                    await run_sync(store.release, scope, key, pending.claim.owned)
                raise
            claim = pending.claim
            if claim is not None and not claim.responded:  # else stored by the use case, in its own transaction
                body = json.loads(response.body) if response.body else None
                await run_sync(store.finish, scope, key, response.status, body, claim.owned)
            return response

        setattr(once, MARK, True)
        return once  # type: ignore[return-value]

    return decorate


def _replayed(stored: StoredResponse) -> HTTPResponse:
    content_type = PROBLEM_JSON if stored.status >= 400 else "application/json"
    return json_response(stored.body, status=stored.status, content_type=content_type,
                         headers={"Idempotent-Replayed": "true"})
