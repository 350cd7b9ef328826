"""``@endpoint``: one decorator that documents a route in OpenAPI from the same pydantic models the
handler validates with, so the published contract cannot drift from the code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sanic_ext import openapi
from sanic_ext.extensions.openapi.definitions import Component

from ecommerce.kernel.http.problems import PROBLEM_JSON
from ecommerce.kernel.schema import ApiModel

F = TypeVar("F", bound=Callable[..., Any])


class Problem(ApiModel):
    """RFC 9457 problem details (every error response)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


_ERROR_TEXT = {
    400: "Invalid input",
    401: "Missing, invalid or expired access token",
    403: "Authenticated but not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Idempotency key reused with another body",
    429: "Throttled (see Retry-After)",
}


def endpoint(
    *,
    summary: str,
    tag: str,
    body: type[ApiModel] | None = None,
    response: type[ApiModel] | None = None,
    status: int = 200,
    auth: bool = False,
    errors: Sequence[int] = (),
    description: str | None = None,
    query: Sequence[dict[str, Any]] = (),
) -> Callable[[F], F]:
    for model in (body, response):
        if model is not None and not issubclass(model, ApiModel):
            raise TypeError(f"{model.__name__} must subclass ApiModel to be published in OpenAPI 3.0")

    def decorate(handler: F) -> F:
        codes = sorted(set(errors) | ({401} if auth else set()) | ({400} if body else set()))
        responses = [
            openapi.definitions.Response(
                {"application/json": Component(response)} if response else {},
                status=status,
                description="Success",
            )
        ]
        responses += [
            openapi.definitions.Response(
                {PROBLEM_JSON: Component(Problem)}, status=code, description=_ERROR_TEXT.get(code, "Error")
            )
            for code in codes
        ]
        handler = openapi.definition(
            summary=summary,
            description=description,
            tag=tag,
            body={"application/json": Component(body)} if body else None,
            response=responses,
            secured={"bearer": []} if auth else None,
            parameter=[openapi.definitions.Parameter(**q) for q in query] or None,
        )(handler)
        return handler

    return decorate
