"""``GET /search``: the only route of the search module."""

from __future__ import annotations

from typing import Any

from sanic import HTTPResponse, Request, json

from ecommerce.kernel.http import endpoint, page_request, page_response, run_sync
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.http.endpoint import query_parameters
from ecommerce.kernel.http.pagination import QUERY as PAGE_QUERY
from ecommerce.kernel.http.validation import parse_query
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.modules.search import api
from ecommerce.modules.search.schemas import HitPage, SearchQuery

QUERY = [
    *query_parameters(SearchQuery, descriptions={
        "q": "Words to search for (any text is safe; with no word in it: 400)",
        "category": "An existing category's id or slug, sub-categories included (else 400)"}),
    *PAGE_QUERY,
]


def _search(query: SearchQuery, page: PageRequest) -> Page[dict[str, Any]]:
    return api.find(query.q, page, category=query.category, brand=query.brand, min_price=query.min_price,
                    max_price=query.max_price, in_stock=query.in_stock)


def build_blueprint() -> Blueprint:
    bp = Blueprint("search")

    @bp.get("/search")
    @endpoint(summary="Ranked full-text product search with highlights", tag="search", response=HitPage, query=QUERY)
    async def find(request: Request) -> HTTPResponse:
        query = parse_query(request, SearchQuery)
        page = await run_sync(_search, query, page_request(request))
        return json(page_response(page, lambda hit: hit))

    return bp
