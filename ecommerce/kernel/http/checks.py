"""Route decorators that run a check before the handler: one wrapper for every guard (a valid token, the
admin role, the stricter rate limit of credential routes, the storefront's form token and login).

A check raises to refuse (the answer is then the error's problem details), returns a response to answer
instead of the handler (the storefront's redirect to its login page), or returns None to let it run.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sanic import HTTPResponse, Request

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[HTTPResponse]])
Check = Callable[[Request], Awaitable[HTTPResponse | None]]


def check_first(check: Check) -> Callable[[Handler], Handler]:
    """The decorator that awaits ``check(request)`` before the handler it wraps."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            answer = await check(request)
            return answer if answer is not None else await handler(request, *args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate
