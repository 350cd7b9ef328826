"""System routes outside ``/api/v1``: liveness, readiness (every module's database) and metrics.

``/readyz`` also reports Redis and the event broker when they are configured, without requiring them:
throttling fails open and the cache falls back to the database without Redis, and without the broker the
relay keeps the events in the outboxes (retried, never parked) until it answers again, so a worker that
cannot reach either still serves correctly and must stay in the load balancer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sanic import HTTPResponse, Request, json, raw
from sanic_ext import openapi

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.errors import NotFound
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.http.metrics import HttpMetrics
from ecommerce.kernel.http.problems import problem_types


def build_blueprint(metrics: HttpMetrics) -> Blueprint:
    bp = Blueprint("system")

    @bp.get("/healthz")
    @openapi.definition(summary="Liveness: the process answers (touches no database)", tag="system")
    async def healthz(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @bp.get("/readyz")
    @openapi.definition(
        summary="Readiness: every module's database answers",
        description="503 when a module's database does not answer. Redis and the event broker, when "
        "configured, are reported (`ok` or `unavailable`) but not required: without the broker the relay "
        "keeps events in the outboxes until it is back.",
        tag="system",
    )
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
        if kernel.broker is not None:
            # Reported, not required: the relay keeps events in the outbox while the broker is away.
            body["broker"] = "ok" if await _answers(kernel.broker.ping) else "unavailable"
        if kernel.databases.replicas:
            # Reported, not required: a replica that is down or lagging is skipped (reads use the primary).
            states = await run_sync(lambda: {m: r.check() for m, r in kernel.databases.replicas.items()})
            body["replicas"] = {m: f"lagging ({state.lag:.1f} s behind)" if state.status == "lagging" and state.lag
                                else state.status for m, state in states.items()}
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
    @openapi.definition(summary="Prometheus metrics of this worker: HTTP requests and integration events",
                        tag="system")
    async def prometheus(request: Request) -> HTTPResponse:
        body, content_type = metrics.render()
        # The events' lag is read from the outboxes: off the event loop.
        events = await run_sync(request.app.ctx.kernel.event_metrics.render)
        replicas = request.app.ctx.kernel.replica_metrics.render()
        return raw(body + events + replicas, content_type=content_type)

    return bp


async def _answers(ping: Callable[[], None]) -> bool:
    """Whether a blocking ``ping`` returns (in a thread of its own: the broker's ping waits on its loop)."""
    try:
        await asyncio.to_thread(ping)
    except Exception:  # report, never raise: readiness must answer
        return False
    return True
