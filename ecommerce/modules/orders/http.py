"""HTTP routes of the orders module: the cart, checkout, my orders, admin fulfilment."""

from __future__ import annotations

from sanic import HTTPResponse, Request, json
from sanic_ext import openapi

from ecommerce.kernel.http import endpoint, page_request, page_response, parse_body, principal, run_sync
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.http.idempotency import PARAMETER as IDEMPOTENCY_KEY
from ecommerce.kernel.http.idempotency import Pending, idempotent, pending_of
from ecommerce.kernel.http.pagination import QUERY as PAGE_QUERY
from ecommerce.kernel.http.validation import query_args
from ecommerce.modules.orders import cart, checkout, queries, transitions
from ecommerce.modules.orders.models import idempotency
from ecommerce.modules.orders.schemas import (
    CartItemIn,
    CartOut,
    CheckoutIn,
    OrderOut,
    OrderPage,
    QuantityIn,
    TransitionIn,
)
from ecommerce.modules.orders.states import STATES

ADMIN_FILTERS = [
    {"name": "status", "schema": openapi.String(enum=list(STATES)), "description": "Only orders in this state"},
    {"name": "from", "schema": str, "description": "Created at or after (an ISO 8601 date or time, else 400)"},
    {"name": "to", "schema": str, "description": "Created before (an ISO 8601 date or time, else 400)"},
    *PAGE_QUERY,
]


def _checkout(user_id: int, address_id: int, pending: Pending) -> dict[str, object]:
    """The key's claim (with the cart's read) first, in this thread: one hop into the thread pool for the
    request. The order's detail (as its inserts returned it) is stored as the key's response inside the
    order's transaction: on PostgreSQL every autocommitted read or write after it would be one more commit
    (ADR 0015)."""
    claim = pending.take()
    answer: dict[str, object] = {}

    def respond(detail: dict[str, object]) -> None:
        answer.update(detail)
        claim.respond(201, answer)

    checkout.checkout(user_id, address_id, items=claim.preloaded, answer=respond)
    return answer


def _cancel(user_id: int, order_id: int) -> dict[str, object]:
    transitions.cancel(user_id, order_id)
    return queries.detail(user_id, order_id)


def _admin_move(order_id: int, target: str) -> dict[str, object]:
    transitions.admin_transition(order_id, target)
    return queries.detail(None, order_id)


def build_blueprint() -> Blueprint:
    bp = Blueprint("orders")

    # --- cart -------------------------------------------------------------------------------------
    @bp.get("/cart")
    @endpoint(summary="My cart, priced now", tag="cart", response=CartOut, auth="user")
    async def get_cart(request: Request) -> HTTPResponse:
        return json(await run_sync(cart.view, principal(request).user_id))

    @bp.post("/cart/items")
    @endpoint(summary="Add units of a product (added to its line; a full line or cart: 409)", tag="cart",
              body=CartItemIn, response=CartOut, auth="user", errors=[404, 409])
    async def add_item(request: Request) -> HTTPResponse:
        data = parse_body(request, CartItemIn)
        return json(await run_sync(cart.add, principal(request).user_id, data.product_id, data.quantity))

    @bp.patch("/cart/items/<product_id:int>")
    @endpoint(summary="Set a line's quantity (1..99)", tag="cart", body=QuantityIn, response=CartOut, auth="user",
              errors=[404])
    async def set_item(request: Request, product_id: int) -> HTTPResponse:
        data = parse_body(request, QuantityIn)
        return json(await run_sync(cart.set_quantity, principal(request).user_id, product_id, data.quantity))

    @bp.delete("/cart/items/<product_id:int>")
    @endpoint(summary="Remove a line", tag="cart", response=CartOut, auth="user", errors=[404])
    async def remove_item(request: Request, product_id: int) -> HTTPResponse:
        return json(await run_sync(cart.remove, principal(request).user_id, product_id))

    @bp.delete("/cart")
    @endpoint(summary="Empty my cart", tag="cart", response=CartOut, auth="user")
    async def empty_cart(request: Request) -> HTTPResponse:
        user_id = principal(request).user_id
        await run_sync(cart.clear, user_id)
        return json(await run_sync(cart.view, user_id))

    # --- orders -----------------------------------------------------------------------------------
    @bp.post("/orders")
    @endpoint(summary="Check out the cart (needs an Idempotency-Key)", tag="orders", body=CheckoutIn,
              response=OrderOut, status=201, auth="user", errors=[404, 409, 422], query=[IDEMPOTENCY_KEY])
    # The cart is read in the key's claim (one commit for both), which the use case makes (one thread hop).
    @idempotent(idempotency, preload=cart.lines, deferred=True)
    async def checkout(request: Request) -> HTTPResponse:
        data = parse_body(request, CheckoutIn)
        return json(await run_sync(_checkout, principal(request).user_id, data.address_id, pending_of(request)),
                    status=201)

    @bp.get("/orders")
    @endpoint(summary="My orders, newest first", tag="orders", response=OrderPage, auth="user", query=PAGE_QUERY)
    async def my_orders(request: Request) -> HTTPResponse:
        page = await run_sync(queries.mine, principal(request).user_id, page_request(request))
        return json(page_response(page, lambda order: order))

    @bp.get("/orders/<order_id:int>")
    @endpoint(summary="One of my orders", tag="orders", response=OrderOut, auth="user", errors=[404])
    async def my_order(request: Request, order_id: int) -> HTTPResponse:
        return json(await run_sync(queries.detail, principal(request).user_id, order_id))

    @bp.post("/orders/<order_id:int>/cancel")
    @endpoint(summary="Cancel before fulfilment (stock comes back; a paid order is refunded)", tag="orders",
              response=OrderOut, auth="user", errors=[404, 409])
    async def cancel(request: Request, order_id: int) -> HTTPResponse:
        return json(await run_sync(_cancel, principal(request).user_id, order_id))

    # --- admin ------------------------------------------------------------------------------------
    @bp.get("/admin/orders")
    @endpoint(summary="All orders, by status and date (admin)", tag="admin", response=OrderPage, auth="admin",
              query=ADMIN_FILTERS)
    async def admin_orders(request: Request) -> HTTPResponse:
        args = query_args(request)
        page = await run_sync(queries.admin_list, args.get("status"), args.get("from"), args.get("to"),
                              page_request(request))
        return json(page_response(page, lambda order: order))

    @bp.post("/admin/orders/<order_id:int>/transitions")
    @endpoint(summary="Move an order along the state machine (admin)", tag="admin", body=TransitionIn,
              response=OrderOut, auth="admin", errors=[404, 409])
    async def transition(request: Request, order_id: int) -> HTTPResponse:
        data = parse_body(request, TransitionIn)
        return json(await run_sync(_admin_move, order_id, data.to))

    return bp
