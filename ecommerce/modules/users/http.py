"""HTTP routes of the users module: ``/auth/*``, ``/users/me``, addresses, and user admin.

The only file of the module that knows Sanic: it parses, calls a use case through ``run_sync`` and
renders. Auth responses carry ``Cache-Control: no-store``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sanic import HTTPResponse, Request, empty, json

from ecommerce.kernel.clock import isoformat
from ecommerce.kernel.http import (
    endpoint,
    page_request,
    page_response,
    parse_body,
    principal,
    run_sync,
    strict_throttle,
)
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.http.pagination import QUERY as PAGE_QUERY
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.modules.users import accounts, addresses, api, sessions
from ecommerce.modules.users.models import User
from ecommerce.modules.users.schemas import (
    AddressIn,
    AddressOut,
    AddressPage,
    AddressPatch,
    LoginIn,
    ProfilePatch,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserAdminPatch,
    UserPage,
    UserView,
)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _pick(view: object, *names: str) -> dict[str, Any]:
    """The named attributes of a facade's view, as the JSON answer shows them (in that order)."""
    return {name: getattr(view, name) for name in names}


def user_json(user: UserView) -> dict[str, Any]:
    """The published user (``UserOut``): its fields in order, the time as the API writes every time."""
    return {**dataclasses.asdict(user), "created_at": isoformat(user.created_at)}


def tokens_json(pair: sessions.TokenPair) -> dict[str, Any]:
    """The pair as OAuth 2 clients expect it; ``session_ttl`` is for the browser's cookie, not the body."""
    return _pick(pair, "access_token", "refresh_token", "token_type", "expires_in")


def _update_me(user_id: int, session_id: str, data: ProfilePatch) -> UserView:
    """One use case for PATCH /users/me: phone and/or password, in that order."""
    sent = data.model_fields_set
    if "phone" in sent:
        accounts.update_phone(user_id, data.phone)
    if data.password is not None or data.current_password is not None:
        accounts.change_password(user_id, data.current_password or "", data.password or "", keep_session=session_id)
    return api.get_user(user_id)


def _users_page(page: PageRequest) -> Page[UserView]:
    after = page.after_id()
    rows = list(User.select().where(User.id > after).order_by(User.id).limit(page.limit + 1))
    return Page.from_rows([api.user_view(r) for r in rows], page.limit, lambda last: {"id": last.id})


def _admin_update(actor_id: int, user_id: int, data: UserAdminPatch) -> UserView:
    return api.user_view(accounts.admin_update(user_id, status=data.status, role=data.role, actor_id=actor_id))


def build_blueprint() -> Blueprint:
    bp = Blueprint("users")

    # --- auth -------------------------------------------------------------------------------------
    @bp.post("/auth/register")
    @endpoint(summary="Create an account", tag="auth", body=RegisterIn, response=UserView, status=201,
              errors=[409, 413, 429])
    @strict_throttle
    async def register(request: Request) -> HTTPResponse:
        data = parse_body(request, RegisterIn)
        user = await run_sync(api.register, data.email, data.password, data.phone)
        return json(user_json(user), status=201, headers=NO_STORE)

    @bp.post("/auth/login")
    @endpoint(summary="Log in: access and refresh tokens", tag="auth", body=LoginIn, response=TokenOut,
              errors=[401, 429])
    @strict_throttle
    async def login(request: Request) -> HTTPResponse:
        data = parse_body(request, LoginIn)
        pair = await run_sync(
            sessions.login, data.email, data.password,
            ip=request.ctx.client_ip, user_agent=request.headers.get("user-agent"),
        )
        return json(tokens_json(pair), headers=NO_STORE)

    @bp.post("/auth/refresh")
    @endpoint(summary="Spend a refresh token for a new pair (a reused token revokes the session)", tag="auth",
              body=RefreshIn, response=TokenOut, errors=[401, 429])
    @strict_throttle
    async def refresh(request: Request) -> HTTPResponse:
        data = parse_body(request, RefreshIn)
        pair = await run_sync(sessions.refresh, data.refresh_token)
        return json(tokens_json(pair), headers=NO_STORE)

    @bp.post("/auth/logout")
    @endpoint(summary="End this session: its refresh token and this access token stop working", tag="auth",
              status=204, auth="user")
    async def logout(request: Request) -> HTTPResponse:
        await run_sync(sessions.logout, principal(request))
        return empty(headers=NO_STORE)

    # --- me ---------------------------------------------------------------------------------------
    @bp.get("/users/me")
    @endpoint(summary="The caller's profile", tag="users", response=UserView, auth="user")
    async def me(request: Request) -> HTTPResponse:
        user = await run_sync(api.get_user, principal(request).user_id)
        return json(user_json(user), headers=NO_STORE)

    @bp.patch("/users/me")
    @endpoint(summary="Change phone or password (a new password ends the other sessions)", tag="users",
              body=ProfilePatch, response=UserView, auth="user")
    async def update_me(request: Request) -> HTTPResponse:
        data = parse_body(request, ProfilePatch)
        who = principal(request)
        user = await run_sync(_update_me, who.user_id, who.session_id, data)
        return json(user_json(user), headers=NO_STORE)

    # --- addresses --------------------------------------------------------------------------------
    def address_json(address: Any) -> dict[str, Any]:
        return api.address_view(address).as_dict()

    @bp.get("/users/me/addresses")
    @endpoint(summary="My addresses", tag="users", response=AddressPage, auth="user", query=PAGE_QUERY)
    async def list_addresses(request: Request) -> HTTPResponse:
        page = await run_sync(addresses.list_page, principal(request).user_id, page_request(request))
        return json(page_response(page, address_json))

    @bp.post("/users/me/addresses")
    @endpoint(summary="Add an address", tag="users", body=AddressIn, response=AddressOut, status=201,
              auth="user", errors=[409])
    async def create_address(request: Request) -> HTTPResponse:
        data = parse_body(request, AddressIn)
        address = await run_sync(addresses.create, principal(request).user_id, data.model_dump())
        return json(address_json(address), status=201)

    @bp.get("/users/me/addresses/<address_id:int>")
    @endpoint(summary="One of my addresses", tag="users", response=AddressOut, auth="user", errors=[404])
    async def get_address(request: Request, address_id: int) -> HTTPResponse:
        address = await run_sync(addresses.get, principal(request).user_id, address_id)
        return json(address_json(address))

    @bp.patch("/users/me/addresses/<address_id:int>")
    @endpoint(summary="Change one of my addresses", tag="users", body=AddressPatch, response=AddressOut,
              auth="user", errors=[404])
    async def update_address(request: Request, address_id: int) -> HTTPResponse:
        data = parse_body(request, AddressPatch)
        fields = data.model_dump(include=data.model_fields_set)
        address = await run_sync(addresses.update, principal(request).user_id, address_id, fields)
        return json(address_json(address))

    @bp.delete("/users/me/addresses/<address_id:int>")
    @endpoint(summary="Delete one of my addresses", tag="users", status=204, auth="user", errors=[404])
    async def delete_address(request: Request, address_id: int) -> HTTPResponse:
        await run_sync(addresses.delete, principal(request).user_id, address_id)
        return empty()

    # --- admin ------------------------------------------------------------------------------------
    @bp.get("/admin/users")
    @endpoint(summary="All users (admin)", tag="admin", response=UserPage, auth="admin", query=PAGE_QUERY)
    async def list_users(request: Request) -> HTTPResponse:
        page = await run_sync(_users_page, page_request(request))
        return json(page_response(page, user_json))

    @bp.patch("/admin/users/<user_id:int>")
    @endpoint(summary="Suspend, delete, reactivate or change the role of a user (admin)", tag="admin",
              body=UserAdminPatch, response=UserView, auth="admin", errors=[404, 409])
    async def update_user(request: Request, user_id: int) -> HTTPResponse:
        data = parse_body(request, UserAdminPatch)
        user = await run_sync(_admin_update, principal(request).user_id, user_id, data)
        return json(user_json(user))

    return bp
