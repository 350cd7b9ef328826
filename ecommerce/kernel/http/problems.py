"""RFC 9457 problem details for every error, so clients parse one shape and never see a traceback."""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Callable
from typing import Any

from sanic import HTTPResponse, Request, json
from sanic.constants import HTTP_METHODS
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler

from ecommerce.kernel.errors import AppError, TooManyRequests

log = logging.getLogger("ecommerce.http")
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problems/"

_SANIC_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    408: ("request-timeout", "Request timeout"),
    413: ("payload-too-large", "Request body too large"),
    416: ("range-not-satisfiable", "Range not satisfiable"),
    503: ("service-unavailable", "Service unavailable"),
}


def problem_types() -> dict[str, tuple[int, str]]:
    """Every problem ``type`` this API can answer with: slug -> (status, title)."""
    found: dict[str, tuple[int, str]] = {slug: (status, title) for status, (slug, title) in _SANIC_SLUGS.items()}
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        found[cls.slug] = (cls.status, cls.title)
        pending.extend(cls.__subclasses__())
    return found


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> HTTPResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    if instance:
        body["instance"] = instance
    return json(body, status=status, headers=headers, content_type=PROBLEM_JSON)


def app_error_body(exception: AppError, instance: str | None = None) -> dict[str, Any]:
    """The problem-details body of an expected error (also stored for idempotent replays)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + exception.slug, "title": exception.title, "status": exception.status,
        "detail": exception.detail,
    }
    if exception.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in exception.errors]
    if instance:
        body["instance"] = instance
    return body


def allowed_methods(request: Request) -> str:
    """The methods the request's path answers, for the ``Allow`` header every 405 must carry (RFC 9110).

    Why here: Sanic fills ``Allow`` only for static paths; a path with parameters (``/products/7``) came
    back without it.
    """
    found = []
    for method in HTTP_METHODS:
        try:
            request.app.router.get(request.path, method, request.headers.getone("host", None))
        except SanicException:
            continue
        found.append(method)
    return ", ".join(found)


class ProblemErrorHandler(ErrorHandler):
    """Sanic's error handler, answering every failure as problem details — or, for a request a site module
    claims (``pages``: *wants(request)*, *render(request, status, detail)*), as that module's HTML page."""

    pages: tuple[Callable[[Request], bool], Callable[[Request, int, str], HTTPResponse]] | None = None

    def default(self, request: Request, exception: BaseException) -> HTTPResponse:
        response = self._problem(request, exception)
        if self.pages is None or request is None:
            return response
        wants, render = self.pages
        try:
            if not wants(request):
                return response
            detail = str(jsonlib.loads(response.body or b"{}").get("detail") or "")
            page = render(request, response.status, detail)
        except Exception:  # the page itself failed: the problem document still answers
            log.exception("error page failed", extra={"path": request.path})
            return response
        for name in ("Retry-After", "Allow", "X-Request-ID"):
            if name in response.headers:
                page.headers[name] = response.headers[name]
        return page

    def _problem(self, request: Request, exception: BaseException) -> HTTPResponse:
        rid = getattr(request.ctx, "request_id", None) if request is not None else None
        headers = {"X-Request-ID": rid} if rid else {}
        path = request.path if request is not None else None
        if isinstance(exception, AppError):
            if exception.retry_after:
                headers["Retry-After"] = str(exception.retry_after)
            if isinstance(exception, TooManyRequests) and exception.limit is not None:
                headers["RateLimit-Limit"] = str(exception.limit)
                headers["RateLimit-Remaining"] = "0"
                headers["RateLimit-Reset"] = str(exception.retry_after)
            body = app_error_body(exception, path)
            return json(body, status=exception.status, headers=headers, content_type=PROBLEM_JSON)
        if isinstance(exception, SanicException):
            status = int(getattr(exception, "status_code", 500) or 500)
            if status < 500:
                slug, title = _SANIC_SLUGS.get(status, ("http-error", "HTTP error"))
                extra = dict(getattr(exception, "headers", None) or {})
                if status == 405 and request is not None and not any(k.lower() == "allow" for k in extra):
                    extra["Allow"] = allowed_methods(request)
                return problem(status, slug, title, str(exception) or title,
                               headers={**extra, **headers}, instance=path)
        log.exception("unhandled error", extra={"path": path})
        return problem(
            500, "internal-error", "Internal Server Error",
            "An unexpected error occurred; quote the request id when reporting it.",
            headers=headers, instance=path,
        )
