"""HTTP routes: the only file of the module that imports Sanic. Each route parses, authenticates, then
runs a use case in the thread pool (``run_sync``); errors become problem details by themselves."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request, json

from ecommerce.kernel.http import endpoint, parse_body, principal, run_sync
from ecommerce_wishlist import wishes
from ecommerce_wishlist.schemas import WishIn, WishList


def build_blueprint() -> Blueprint:
    bp = Blueprint("wishlist")

    @bp.get("/wishlist")
    @endpoint(summary="My wishlist, priced now", tag="wishlist", response=WishList, auth="user")
    async def my_wishlist(request: Request) -> HTTPResponse:
        return json(await run_sync(wishes.wishes, principal(request).user_id))

    @bp.put("/wishlist/<product_id:int>")
    @endpoint(summary="Wish for a product (idempotent)", tag="wishlist", body=WishIn, response=WishList,
              auth="user", errors=[404, 409])
    async def wish(request: Request, product_id: int) -> HTTPResponse:
        data = parse_body(request, WishIn)
        user_id = principal(request).user_id
        created = await run_sync(wishes.add, user_id, product_id, data.note)
        return json(await run_sync(wishes.wishes, user_id), status=201 if created else 200)

    @bp.delete("/wishlist/<product_id:int>")
    @endpoint(summary="Remove a product from my wishlist", tag="wishlist", response=WishList, auth="user",
              errors=[404])
    async def unwish(request: Request, product_id: int) -> HTTPResponse:
        user_id = principal(request).user_id
        await run_sync(wishes.remove, user_id, product_id)
        return json(await run_sync(wishes.wishes, user_id))

    return bp
