"""``GET /products/{id}/recommendations`` and ``GET /users/me/recommendations``."""

from __future__ import annotations

from typing import Any

from sanic import HTTPResponse, Request, json

from ecommerce.kernel.http import endpoint, principal, run_sync
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.http.endpoint import query_parameters
from ecommerce.kernel.http.validation import parse_query
from ecommerce.modules.recommendations import api
from ecommerce.modules.recommendations.schemas import RecommendationList, RecommendationQuery

QUERY = query_parameters(RecommendationQuery, exclude=())


def _item(rec: api.Recommendation) -> dict[str, Any]:
    doc = rec.product
    return {"id": doc.product_id, "name": doc.name, "sku": doc.sku, "brand": doc.brand, "category": doc.category,
            "price": doc.price, "currency": doc.currency, "availability": {"total": doc.available},
            "reason": rec.reason, "score": rec.score}


def _listing(recs: list[api.Recommendation]) -> HTTPResponse:
    return json({"items": [_item(rec) for rec in recs]})


def build_blueprint() -> Blueprint:
    bp = Blueprint("recommendations")

    @bp.get("/products/<product_id:int>/recommendations")
    @endpoint(summary="Bought together, popular in the category, popular (each with its reason)",
              tag="recommendations", response=RecommendationList, errors=[400, 404], query=QUERY)
    async def for_product(request: Request, product_id: int) -> HTTPResponse:
        query = parse_query(request, RecommendationQuery)
        return _listing(await run_sync(api.for_product, product_id, query.limit))

    @bp.get("/users/me/recommendations")
    @endpoint(summary="For me, from what I bought (never what I already bought)", tag="recommendations",
              response=RecommendationList, auth="user", errors=[400], query=QUERY)
    async def for_me(request: Request) -> HTTPResponse:
        query = parse_query(request, RecommendationQuery)
        return _listing(await run_sync(api.for_user, principal(request).user_id, query.limit))

    return bp
