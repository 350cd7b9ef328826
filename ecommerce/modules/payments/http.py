"""HTTP routes of the payments module. Responses carry ``Cache-Control: no-store``; card numbers are
never echoed, not even in validation errors."""

from __future__ import annotations

from sanic import HTTPResponse, Request, empty, json

from ecommerce.kernel.http import endpoint, parse_body, principal, run_sync
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.http.idempotency import PARAMETER as IDEMPOTENCY_KEY
from ecommerce.kernel.http.idempotency import idempotent
from ecommerce.modules.payments import card_tokens, charges, refunds
from ecommerce.modules.payments.models import idempotency
from ecommerce.modules.payments.schemas import CardIn, CardList, CardOut, ChargeIn, PaymentOut, RefundIn

NO_STORE = {"Cache-Control": "no-store"}
STATUS = {"succeeded": 201, "failed": 402, "pending": 202}


def build_blueprint() -> Blueprint:
    bp = Blueprint("payments")

    @bp.post("/payments/tokens")
    @endpoint(summary="Save a card: it is encrypted; only brand and last4 come back", tag="payments", body=CardIn,
              response=CardOut, status=201, auth="user")
    async def tokenize(request: Request) -> HTTPResponse:
        data = parse_body(request, CardIn)
        card = await run_sync(card_tokens.tokenize, principal(request).user_id, data.card_number, data.exp_month,
                              data.exp_year, data.cvc, data.holder_name)
        return json(card, status=201, headers=NO_STORE)

    @bp.get("/payments/tokens")
    @endpoint(summary="My saved cards", tag="payments", response=CardList, auth="user")
    async def my_cards(request: Request) -> HTTPResponse:
        return json({"items": await run_sync(card_tokens.mine, principal(request).user_id)}, headers=NO_STORE)

    @bp.delete("/payments/tokens/<token_id:str>")
    @endpoint(summary="Forget a saved card", tag="payments", status=204, auth="user", errors=[404])
    async def forget_card(request: Request, token_id: str) -> HTTPResponse:
        await run_sync(card_tokens.delete, principal(request).user_id, token_id)
        return empty(headers=NO_STORE)

    @bp.post("/payments")
    @endpoint(summary="Pay an order with a saved card: 201 paid, 402 declined, 202 outcome pending",
              tag="payments", body=ChargeIn, response=PaymentOut, status=201, auth="user",
              errors=[404, 409, 422], query=[IDEMPOTENCY_KEY])
    @idempotent(idempotency)
    async def pay(request: Request) -> HTTPResponse:
        data = parse_body(request, ChargeIn)
        payment = await run_sync(charges.charge, principal(request).user_id, data.order_id, data.token_id, data.cvc)
        return json(payment, status=STATUS[payment["status"]], headers=NO_STORE)

    @bp.get("/payments/<payment_id:int>")
    @endpoint(summary="One of my payments", tag="payments", response=PaymentOut, auth="user", errors=[404])
    async def get_payment(request: Request, payment_id: int) -> HTTPResponse:
        return json(await run_sync(charges.get, principal(request).user_id, payment_id), headers=NO_STORE)

    @bp.post("/payments/<payment_id:int>/refunds")
    @endpoint(summary="Refund my paid order before it is fulfilled: all of it, and the order is cancelled "
                      "(201 done, 202 outcome pending); after fulfilment only the shop refunds (409)",
              tag="payments",
              body=RefundIn, body_required=False, response=PaymentOut, status=201, auth="user",
              errors=[404, 409, 422], query=[IDEMPOTENCY_KEY])
    @idempotent(idempotency)
    async def refund(request: Request, payment_id: int) -> HTTPResponse:
        return await _refund(request, payment_id, refunds.customer(principal(request).user_id))

    @bp.post("/admin/payments/<payment_id:int>/refunds")
    @endpoint(summary="The shop refunds a payment (admin): part or all after fulfilment, all (cancelling the "
                      "order) before; 201 done, 202 outcome pending",
              tag="admin",
              body=RefundIn, response=PaymentOut, status=201, auth="admin", errors=[404, 409, 422],
              query=[IDEMPOTENCY_KEY])
    @idempotent(idempotency)
    async def shop_refund(request: Request, payment_id: int) -> HTTPResponse:
        return await _refund(request, payment_id, refunds.shop(principal(request).user_id))

    return bp


async def _refund(request: Request, payment_id: int, who: refunds.Refunder) -> HTTPResponse:
    """One refund for both routes: the policy in ``refunds.decide`` tells the customer's from the shop's."""
    data = parse_body(request, RefundIn) if request.body else RefundIn()
    payment, status = await run_sync(refunds.refund_with_status, who, payment_id, data.amount)
    return json(payment, status=STATUS[status], headers=NO_STORE)
