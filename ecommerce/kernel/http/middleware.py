"""Cross-cutting request handling: request id, client IP, throttling, security headers, metrics, access log.

Why no database work here: request hooks run on the event loop thread; anything blocking belongs in
``run_sync`` inside a handler. (The throttle's Redis calls are asynchronous.)
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from ecommerce.kernel import replicas
from ecommerce.kernel.http import throttle
from ecommerce.kernel.http.client_ip import client_ip, forwarded_https, parse_networks
from ecommerce.kernel.http.metrics import HttpMetrics
from ecommerce.kernel.logging import request_id
from ecommerce.kernel.settings import Settings

access_log = logging.getLogger("ecommerce.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Generated request ids: a random per-process prefix and a counter, 32 hex characters like a UUID.
#: uuid4() read the OS random source on every request: 2 % of a cached product read's CPU (py-spy).
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count(1)
THROTTLED_PREFIX = "/api/"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: Sent only over TLS (directly or via a trusted proxy): over plain HTTP browsers ignore it anyway.
HSTS = "max-age=31536000; includeSubDomains"
#: The API itself serves JSON only; the Swagger UI under /docs needs its own scripts and styles.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
)


def install(app: Sanic, metrics: HttpMetrics, settings: Settings) -> None:
    trusted = parse_networks(settings.trusted_proxies)

    async def start(request: Request) -> None:
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if incoming and _SAFE_ID.match(incoming) else f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"
        request.ctx.request_id = rid
        request.ctx.started = time.perf_counter()
        request.ctx.client_ip = client_ip(request, trusted)
        request_id.set(rid)
        # Replica reads: once this request writes, its reads stay on the primary (kernel/replicas.py).
        request.ctx.read_scope = replicas.ReadScope()
        replicas.enter_scope(request.ctx.read_scope)
        kernel = request.app.ctx.kernel
        if kernel.databases.replicas:  # read-your-writes: a caller who wrote recently reads the primary
            request.ctx.writer = kernel.caller_of(request.headers.get("authorization", ""))
            request.ctx.read_scope.pinned = request.ctx.writer is not None and kernel.recently_wrote(
                request.ctx.writer)
        if request.path.startswith(THROTTLED_PREFIX) and request.method != "OPTIONS":
            await throttle.hit(request, "ip", request.ctx.client_ip)

    async def finish(request: Request, response: BaseHTTPResponse) -> None:
        scope: replicas.ReadScope | None = getattr(request.ctx, "read_scope", None)
        writer: int | None = getattr(request.ctx, "writer", None)
        if scope is not None and scope.wrote and writer is not None:
            request.app.ctx.kernel.wrote_recently(writer)
        rid = getattr(request.ctx, "request_id", None)
        if rid:
            response.headers.setdefault("X-Request-ID", rid)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault(
            "Content-Security-Policy", DOCS_CSP if request.path.startswith("/docs") else API_CSP
        )
        if request.path.startswith(THROTTLED_PREFIX):
            # API responses are personal unless a route says otherwise (catalog reads may set their own).
            response.headers.setdefault("Cache-Control", "no-store")
        if forwarded_https(request, trusted):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        verdict = getattr(request.ctx, "rate_limit", None)
        if verdict is not None:
            for name, value in throttle.headers(verdict).items():
                response.headers.setdefault(name, value)
        started = getattr(request.ctx, "started", None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        route = request.route.path if request.route else "<unmatched>"
        route = "/" + route.lstrip("/")
        metrics.observe(request.method, route, response.status, elapsed)
        if access_log.isEnabledFor(logging.INFO):  # skip building the record when nobody reads it
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route,
                    "path": request.path,
                    "status": response.status,
                    "client_ip": getattr(request.ctx, "client_ip", None),
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )

    # Highest priority: the request id exists before any other middleware or handler logs.
    app.register_middleware(start, "request", priority=100)
    app.register_middleware(finish, "response", priority=100)
