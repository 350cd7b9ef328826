"""``GET /notifications`` (mine, newest first, with the unread count) and ``POST /notifications/{id}/read``."""

from __future__ import annotations

from uuid import UUID

from sanic import HTTPResponse, Request, json

from ecommerce.kernel.http import endpoint, page_request, page_response, principal, run_sync
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.http.pagination import QUERY as PAGE_QUERY
from ecommerce.modules.notifications import feed
from ecommerce.modules.notifications.schemas import NotificationOut, NotificationPage

NO_STORE = {"Cache-Control": "no-store"}


def build_blueprint() -> Blueprint:
    bp = Blueprint("notifications")

    @bp.get("/notifications")
    @endpoint(summary="My notifications, newest first, and how many are unread", tag="notifications",
              response=NotificationPage, auth="user", errors=[400, 503], query=PAGE_QUERY)
    async def my_notifications(request: Request) -> HTTPResponse:
        page, unread = await run_sync(feed.mine, principal(request).user_id, page_request(request))
        return json({**page_response(page, lambda item: item), "unread": unread}, headers=NO_STORE)

    # ``uuid``: the route matches only the canonical 8-4-4-4-12 form, published as ``format: uuid``; any
    # other text is no such resource (404) rather than a lookup.
    @bp.post("/notifications/<notification_id:uuid>/read")
    @endpoint(summary="Mark one of my notifications read", tag="notifications", response=NotificationOut,
              auth="user", errors=[404, 503])
    async def read(request: Request, notification_id: UUID) -> HTTPResponse:
        return json(await run_sync(feed.mark_read, principal(request).user_id, str(notification_id)),
                    headers=NO_STORE)

    return bp
