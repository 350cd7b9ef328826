"""``GET /search``: the only route of the search module."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, HTTPResponse, Request, json

from ecommerce.kernel.http import endpoint, page_request, page_response, run_sync
from ecommerce.kernel.http.guard import AMOUNT_PARAM, ID_PARAM
from ecommerce.kernel.http.pagination import QUERY as PAGE_QUERY
from ecommerce.kernel.http.validation import parse_query
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.search.query import SearchFilters, search
from ecommerce.modules.search.schemas import HitPage, SearchQuery

QUERY = [
    {"name": "q", "schema": str, "required": True, "description": "Words to search for (any text is safe)"},
    {"name": "category", "schema": str, "description": "Category id or slug (sub-categories included)"},
    {"name": "brand", "schema": ID_PARAM}, {"name": "min_price", "schema": AMOUNT_PARAM},
    {"name": "max_price", "schema": AMOUNT_PARAM},
    {"name": "in_stock", "schema": bool}, *PAGE_QUERY,
]


def _search(query: SearchQuery, page: PageRequest) -> Page[dict[str, Any]]:
    filters = SearchFilters(
        q=query.q,
        category_ids=catalog.category_ids(query.category) if query.category else None,
        brand_id=query.brand, min_price=query.min_price, max_price=query.max_price, in_stock=query.in_stock,
    )
    return search(filters, page)


def build_blueprint() -> Blueprint:
    bp = Blueprint("search")

    @bp.get("/search")
    @endpoint(summary="Ranked full-text product search with highlights", tag="search", response=HitPage, query=QUERY)
    async def find(request: Request) -> HTTPResponse:
        query = parse_query(request, SearchQuery)
        page = await run_sync(_search, query, page_request(request))
        return json(page_response(page, lambda hit: hit))

    return bp
