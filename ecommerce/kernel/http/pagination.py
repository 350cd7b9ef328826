"""Query-string pagination (``limit``, ``cursor``) and the ``{"items", "next_cursor"}`` response shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sanic import Request
from sanic_ext import openapi

from ecommerce.kernel.http.validation import query_args
from ecommerce.kernel.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest

T = TypeVar("T")
#: The OpenAPI ``format`` of a page cursor: only the server makes valid ones, so no schema can describe
#: them; a client (or a fuzzer, tests/contract) takes them from ``next_cursor``.
CURSOR_FORMAT = "page-cursor"

#: For ``@endpoint(query=...)``: how the two parameters appear in OpenAPI.
QUERY = (
    {"name": "limit", "schema": openapi.Integer(minimum=1, maximum=MAX_LIMIT), "location": "query",
     "description": f"Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}); outside that range: 400."},
    {"name": "cursor", "schema": openapi.String(format=CURSOR_FORMAT), "location": "query",
     "description": "Opaque cursor from the previous page's next_cursor (one the server did not issue: 400)."},
)


def page_request(request: Request) -> PageRequest:
    args = query_args(request)
    return PageRequest.parse(args.get("limit"), args.get("cursor"))


def page_response(page: Page[T], render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    return {"items": [render(item) for item in page.items], "next_cursor": page.next_cursor}
