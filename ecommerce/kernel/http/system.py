"""System routes outside ``/api/v1``: liveness, readiness (every module's database) and metrics."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request, json, raw
from sanic_ext import openapi

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.errors import NotFound
from ecommerce.kernel.http.metrics import HttpMetrics
from ecommerce.kernel.http.problems import problem_types


def build_blueprint(metrics: HttpMetrics) -> Blueprint:
    bp = Blueprint("system")

    @bp.get("/healthz")
    @openapi.definition(summary="Liveness: the process answers (touches no database)", tag="system")
    async def healthz(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @bp.get("/readyz")
    @openapi.definition(summary="Readiness: every module's database answers", tag="system")
    async def readyz(request: Request) -> HTTPResponse:
        kernel = request.app.ctx.kernel

        def check() -> dict[str, str]:
            results: dict[str, str] = {}
            for module in kernel.modules:
                try:
                    kernel.databases.ping(module.name)
                    results[module.name] = "ok"
                except Exception as exc:  # report, never raise: readiness must answer
                    results[module.name] = f"error: {type(exc).__name__}"
            return results

        results = await run_sync(check)
        ready = all(value == "ok" for value in results.values())
        body: dict[str, object] = {"status": "ok" if ready else "unavailable", "modules": results}
        if kernel.settings.redis_url:
            # Reported, not required: throttling fails open and the cache falls back to the database.
            body["redis"] = "ok" if await request.app.ctx.throttle.ping() else "unavailable"
        return json(body, status=200 if ready else 503)

    @bp.get("/problems/<slug:str>")
    @openapi.definition(summary="What a problem type means (the 'type' of every error response)", tag="system")
    async def problem_type(request: Request, slug: str) -> HTTPResponse:
        known = problem_types()
        if slug not in known:
            raise NotFound(f"No problem type {slug!r}.")
        status, title = known[slug]
        return json({"type": f"/problems/{slug}", "title": title, "status": status})

    @bp.get("/metrics")
    @openapi.definition(summary="Prometheus metrics of this worker", tag="system")
    async def prometheus(request: Request) -> HTTPResponse:
        body, content_type = metrics.render()
        return raw(body, content_type=content_type)

    return bp
