"""Query-string pagination (``limit``, ``cursor``) and the ``{"items", "next_cursor"}`` response shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sanic import Request

from ecommerce.kernel.pagination import MAX_LIMIT, Page, PageRequest

T = TypeVar("T")

#: For ``@endpoint(query=...)``: how the two parameters appear in OpenAPI.
QUERY = (
    {"name": "limit", "schema": int, "location": "query",
     "description": f"Page size (default 20; larger values are capped at {MAX_LIMIT})."},
    {"name": "cursor", "schema": str, "location": "query",
     "description": "Opaque cursor from the previous page's next_cursor."},
)


def page_request(request: Request) -> PageRequest:
    return PageRequest.parse(request.args.get("limit"), request.args.get("cursor"))


def page_response(page: Page[T], render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    return {"items": [render(item) for item in page.items], "next_cursor": page.next_cursor}
