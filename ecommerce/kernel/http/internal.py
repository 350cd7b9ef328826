"""``POST /internal/<module>/<function>``: the hosted modules' remotable facade functions, for the other
services of a layout (:mod:`ecommerce.kernel.remote`).

Why routes of their own, outside ``/api/v1``: they are not the public API. Every request needs a service
token addressed to this service (401 otherwise, before anything is read); the nginx gateway routes no
``/internal`` path (``ecommerce/gateway/routes.py``); and they are left out of the OpenAPI document.
Expected errors answer ``{"error": ...}`` with their status, so the caller raises the same exception.
"""

from __future__ import annotations

import json

from sanic import HTTPResponse, Request
from sanic import json as json_response
from sanic_ext import openapi

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.errors import AppError, NotFound, Unauthorized, ValidationFailed
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.remote import codec, facade
from ecommerce.kernel.remote.client import INTERNAL_PREFIX


def build_blueprint() -> Blueprint:
    bp = Blueprint("internal", url_prefix=INTERNAL_PREFIX)

    @bp.post("/<module:str>/<function:str>")
    @openapi.exclude()
    async def call(request: Request, module: str, function: str) -> HTTPResponse:
        kernel = request.app.ctx.kernel
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("A service token is required (Authorization: Bearer).")
        kernel.service_tokens.verify(token.strip())
        spec = facade.lookup(module, function) if module in kernel.modules else None
        if spec is None:
            raise NotFound(f"This service hosts no remotable {module}.{function}.")
        try:
            body = json.loads(request.body or b"{}")
            args = codec.decode(body.get("args", []))
            kwargs = {str(k): codec.decode(v) for k, v in dict(body.get("kwargs", {})).items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValidationFailed(f"Not a facade call body ({exc}).") from None
        try:
            result = await run_sync(facade.serve, spec, tuple(args), kwargs)
        except AppError as error:
            return json_response({"error": codec.encode_error(error)}, status=error.status)
        return json_response({"result": codec.encode(result)})

    return bp
