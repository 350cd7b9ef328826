"""Cross-cutting request handling: request id, security headers, metrics, access log.

Why no database work here: request hooks run on the event loop thread; anything blocking belongs in
``run_sync`` inside a handler.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from ecommerce.kernel.http.metrics import HttpMetrics
from ecommerce.kernel.logging import request_id

access_log = logging.getLogger("ecommerce.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
#: The API itself serves JSON only; the Swagger UI under /docs needs its own scripts and styles.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def install(app: Sanic, metrics: HttpMetrics) -> None:
    async def start(request: Request) -> None:
        incoming = request.headers.get("x-request-id", "")
        rid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.ctx.request_id = rid
        request.ctx.started = time.perf_counter()
        request_id.set(rid)

    async def finish(request: Request, response: BaseHTTPResponse) -> None:
        rid = getattr(request.ctx, "request_id", None)
        if rid:
            response.headers.setdefault("X-Request-ID", rid)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.path.startswith("/docs"):
            response.headers.setdefault("Content-Security-Policy", API_CSP)
        started = getattr(request.ctx, "started", None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        route = request.route.path if request.route else "<unmatched>"
        route = "/" + route.lstrip("/")
        metrics.observe(request.method, route, response.status, elapsed)
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "route": route,
                "path": request.path,
                "status": response.status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )

    # Highest priority: the request id exists before any other middleware or handler logs.
    app.register_middleware(start, "request", priority=100)
    app.register_middleware(finish, "response", priority=100)
