"""Errors the domain raises, in plain Python; the HTTP glue turns each into RFC 9457 problem details.

Why here and not in http: domain code must say "not found" or "conflict" without knowing about Sanic,
and the same exceptions then read naturally to a developer calling a module's ``api`` from a script.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One invalid input field; ``field`` is a dotted path such as ``items.0.quantity``."""

    field: str
    message: str


class AppError(Exception):
    """Base of every expected error. ``slug`` becomes the problem ``type``; ``status`` the HTTP code."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal Server Error"
    #: Seconds after which trying again can succeed (``Retry-After``), when the error is temporary (a rate
    #: limit, a service that is down, an Idempotency-Key still held by a request in flight); None when only
    #: another request can help.
    retry_after: int | None = None

    def __init__(self, detail: str | None = None, *, errors: list[FieldError] | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        if retry_after is not None:
            self.retry_after = retry_after


class ValidationFailed(AppError):
    status, slug, title = 400, "validation-error", "Invalid request"


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class Unprocessable(AppError):
    status, slug, title = 422, "unprocessable", "Unprocessable request"


class TooManyRequests(AppError):
    status, slug, title = 429, "too-many-requests", "Too many requests"
    retry_after = 1

    def __init__(self, detail: str | None = None, *, retry_after: int = 1, limit: int | None = None) -> None:
        super().__init__(detail, retry_after=retry_after)
        #: The request budget that was spent (``RateLimit-Limit``), when a rate limit said no.
        self.limit = limit


class ServiceUnavailable(AppError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"
    #: Nothing failed for good: the client should try again after this many seconds.
    retry_after = 5
