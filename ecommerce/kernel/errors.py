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

    def __init_subclass__(cls, *, status: int | None = None, slug: str | None = None, title: str | None = None,
                          **kwargs: object) -> None:
        """``class NotFound(AppError, status=404, slug="not-found", title="Not found")``: a kind of error
        declares its problem's status, type and title in its class statement (a subclass of it inherits them)."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if slug is not None:
            cls.slug = slug
        if title is not None:
            cls.title = title

    def __init__(self, detail: str | None = None, *, errors: list[FieldError] | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        if retry_after is not None:
            self.retry_after = retry_after


class ValidationFailed(AppError, status=400, slug="validation-error", title="Invalid request"):
    """The input breaks a rule (a field, the body, the query); ``errors`` says which."""


class Unauthorized(AppError, status=401, slug="unauthorized", title="Authentication required"):
    """No valid access token (or the session behind it has ended)."""


class Forbidden(AppError, status=403, slug="forbidden", title="Not allowed"):
    """The caller is known but may not do this (a customer on an admin route, a form from another site)."""


class NotFound(AppError, status=404, slug="not-found", title="Not found"):
    """What the request names does not exist, or is not the caller's to see."""


class Conflict(AppError, status=409, slug="conflict", title="Conflict"):
    """The request contradicts the current state (a duplicate, a move the state machine refuses)."""


class PayloadTooLarge(AppError, status=413, slug="payload-too-large", title="Request body too large"):
    """The request body is over the size limit."""


class Unprocessable(AppError, status=422, slug="unprocessable", title="Unprocessable request"):
    """Well-formed but not processable (an idempotency key reused with another body)."""


class TooManyRequests(AppError, status=429, slug="too-many-requests", title="Too many requests"):
    """A rate limit said no: try again after ``retry_after`` seconds."""

    retry_after = 1

    def __init__(self, detail: str | None = None, *, retry_after: int = 1, limit: int | None = None) -> None:
        super().__init__(detail, retry_after=retry_after)
        #: The request budget that was spent (``RateLimit-Limit``), when a rate limit said no.
        self.limit = limit


class ServiceUnavailable(AppError, status=503, slug="service-unavailable", title="Service unavailable"):
    """Something the request needs is down for now."""

    #: Nothing failed for good: the client should try again after this many seconds.
    retry_after = 5
