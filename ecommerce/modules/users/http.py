"""HTTP routes of the users module: ``/auth/*`` and ``/users/me`` (the only file here that knows Sanic)."""

from __future__ import annotations

import datetime

from pydantic import Field
from sanic import Blueprint, HTTPResponse, Request, json

from ecommerce.kernel.clock import isoformat
from ecommerce.kernel.http import ApiModel, authenticated, endpoint, parse_body, principal, run_sync
from ecommerce.modules.users import api, service

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class RegisterIn(ApiModel):
    email: str = Field(max_length=254, examples=["ada@example.com"])
    password: str = Field(max_length=1024, examples=["correct horse battery staple"])
    phone: str | None = Field(default=None, max_length=32, examples=["+14155550123"])


class LoginIn(ApiModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class UserOut(ApiModel):
    id: int
    email: str
    phone: str | None
    role: str
    status: str
    created_at: datetime.datetime


class TokenOut(ApiModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


def user_json(user: api.UserView) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "status": user.status,
        "created_at": isoformat(user.created_at),
    }


def build_blueprint() -> Blueprint:
    bp = Blueprint("users")

    @bp.post("/auth/register")
    @endpoint(summary="Create an account", tag="auth", body=RegisterIn, response=UserOut, status=201, errors=[409, 413])
    async def register(request: Request) -> HTTPResponse:
        data = parse_body(request, RegisterIn)
        user = await run_sync(api.register, data.email, data.password, data.phone)
        return json(user_json(user), status=201, headers=NO_STORE)

    @bp.post("/auth/login")
    @endpoint(summary="Log in: access and refresh tokens", tag="auth", body=LoginIn, response=TokenOut, errors=[401])
    async def login(request: Request) -> HTTPResponse:
        data = parse_body(request, LoginIn)
        pair = await run_sync(
            service.login, data.email, data.password,
            ip=request.remote_addr or request.ip, user_agent=request.headers.get("user-agent"),
        )
        body = {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "token_type": pair.token_type,
            "expires_in": pair.expires_in,
        }
        return json(body, headers=NO_STORE)

    @bp.get("/users/me")
    @endpoint(summary="The caller's profile", tag="users", response=UserOut, auth=True)
    @authenticated
    async def me(request: Request) -> HTTPResponse:
        user = await run_sync(api.get_user, principal(request).user_id)
        return json(user_json(user), headers=NO_STORE)

    return bp
