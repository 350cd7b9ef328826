"""``create_app``: the Sanic application serving every enabled module under ``/api/v1``.

Keyword-only on purpose: ``sanic --factory ecommerce.app:create_app`` calls the factory with an
argparse namespace first and falls back to no arguments when that fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable

from sanic import Blueprint, Sanic
from sanic_ext import Extend

from ecommerce import __version__
from ecommerce.kernel import logging as app_logging
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.events.tables import add_publish_listener, remove_publish_listener
from ecommerce.kernel.http import guard, internal, middleware, system
from ecommerce.kernel.http.metrics import HttpMetrics
from ecommerce.kernel.http.problems import ProblemErrorHandler
from ecommerce.kernel.http.swagger import CONFIG as SWAGGER_CONFIG
from ecommerce.kernel.http.swagger import install_offline_swagger
from ecommerce.kernel.http.throttle import Throttle
from ecommerce.kernel.security.tokens import derive_key
from ecommerce.kernel.settings import Settings

log = logging.getLogger("ecommerce.app")
API_PREFIX = "/api/v1"


def _load(path: str) -> Callable[[], Blueprint]:
    module_name, _, attr = path.partition(":")
    factory: Callable[[], Blueprint] = getattr(importlib.import_module(module_name), attr)
    return factory


def create_app(*, settings: Settings | None = None, name: str = "ecommerce") -> Sanic:
    settings = settings or Settings.from_env()
    kernel = Kernel(settings)
    app = Sanic(
        name,
        error_handler=ProblemErrorHandler(),
        log_config=app_logging.log_config(settings.log_level, settings.log_format),
    )
    app.config.update(
        REQUEST_MAX_SIZE=settings.max_body_bytes,
        FALLBACK_ERROR_FORMAT="json",
        ACCESS_LOG=False,
        KEEP_ALIVE_TIMEOUT=30,
        OAS_URL_PREFIX="/docs",
        OAS_UI_DEFAULT="swagger",
        OAS_UI_REDOC=False,
        OAS_AUTODOC=False,
        HEALTH=False,
        # CORS only for the origins an operator lists (ECOMMERCE_CORS_ORIGINS); none by default.
        CORS=bool(settings.cors_origins),
        CORS_ORIGINS=",".join(settings.cors_origins),
        CORS_ALLOW_HEADERS="authorization,content-type,idempotency-key,x-request-id",
        CORS_EXPOSE_HEADERS="x-request-id,retry-after,ratelimit-limit,ratelimit-remaining,ratelimit-reset",
        CORS_MAX_AGE=600,
        # Touch-up rewrites Sanic's own methods once per process; tests build many apps in one process.
        TOUCHUP=settings.env != "test",
        **SWAGGER_CONFIG,
    )
    app.ctx.kernel = kernel
    app.ctx.idempotency_key = derive_key(kernel.secret, "idempotency")
    app.ctx.settings = settings
    Extend(app)
    app.ext.openapi.describe(
        "ecommerce API",
        version=__version__,
        description="Reference e-commerce platform (modular monolith). Errors are RFC 9457 problem details. "
        "No text anywhere may contain a NUL character (400). Every /api request counts against the caller's "
        "rate limits (429 with Retry-After).",
    )
    app.ext.openapi.add_security_scheme("bearer", "http", scheme="bearer", bearer_format="JWT")
    install_offline_swagger(app)

    metrics = HttpMetrics()
    app.ctx.throttle = Throttle(settings)
    middleware.install(app, metrics, settings)
    guard.install(app)
    app.blueprint(system.build_blueprint(metrics))
    app.blueprint(internal.build_blueprint())
    blueprints = [_load(m.blueprint)() for m in kernel.modules if m.blueprint and not m.site]
    if blueprints:
        app.blueprint(Blueprint.group(*blueprints, url_prefix=API_PREFIX))
    for site in (m.blueprint for m in kernel.modules if m.blueprint and m.site):
        app.blueprint(_load(site)())  # its pages, from the root (the storefront at /)

    @app.after_server_start
    async def start_relay(app: Sanic) -> None:
        # A plain asyncio task rather than app.add_task: it also works under create_server (tests, embedding).
        app.ctx.relay_task = (
            asyncio.get_running_loop().create_task(_relay_loop(kernel, settings.relay_interval))
            if settings.run_relay
            else None
        )
        if settings.run_relay and kernel.consumers is not None:
            # With a broker, this worker also consumes its modules' queues (competing consumers: the
            # broker spreads the messages over every worker of every instance). A broker that is down
            # now is not fatal: the relay keeps events in the outbox and /readyz reports it; the
            # consumers start once a later attempt connects.
            app.ctx.consumer_task = asyncio.get_running_loop().create_task(_start_consumers(kernel))

        # Each module's periodic jobs (idempotent by contract: every worker runs them).
        loop = asyncio.get_running_loop()
        app.ctx.job_tasks = [
            loop.create_task(_job_loop(job.name, job.run, settings.job_interval or job.every))
            for m in kernel.modules for job in m.jobs
        ] if settings.run_relay else []

    @app.before_server_stop
    async def stop_relay(app: Sanic) -> None:
        tasks = [getattr(app.ctx, "relay_task", None), getattr(app.ctx, "consumer_task", None),
                 *getattr(app.ctx, "job_tasks", [])]
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @app.after_server_stop
    async def close_kernel(app: Sanic) -> None:
        await app.ctx.throttle.close()
        kernel.close()

    return app


async def _start_consumers(kernel: Kernel, retry_every: float = 2.0) -> None:
    """Register this worker's consumers with the broker, retrying until the broker answers."""
    assert kernel.consumers is not None
    while True:
        try:
            await asyncio.to_thread(kernel.consumers.start)
            return
        except Exception as exc:
            log.warning("event consumers not started, retrying", extra={"error": repr(exc)})
            await asyncio.sleep(retry_every)


async def _job_loop(name: str, run: Callable[[], object], every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await run_sync(run)
        except Exception:
            log.exception("background job failed", extra={"job": name})


async def _relay_loop(kernel: Kernel, interval: float) -> None:
    """Deliver events in the background. Woken when a transaction that published commits, it looks only
    at the outboxes that committed (``Relay.run_hinted``); every ``interval`` without a wake-up it polls
    them all (events of other processes, retries whose backoff ended)."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    relay = kernel.relay

    def nudge(modules: frozenset[str]) -> None:
        loop.call_soon_threadsafe(wake.set)

    add_publish_listener(nudge)
    full = True  # the first pass, and every pass after a quiet interval, looks at every outbox
    try:
        while True:
            wake.clear()
            try:
                report = await run_sync(relay.run_once if full else relay.run_hinted)
                if full and report.delivered + report.retried + report.failed >= relay.batch_size:
                    continue  # a full batch: there may be more waiting
                if relay.hinted:
                    full = False
                    continue
            except Exception:
                log.exception("outbox relay pass failed")
            try:
                await asyncio.wait_for(wake.wait(), timeout=interval)
                full = False
            except TimeoutError:
                full = True
    finally:
        remove_publish_listener(nudge)
