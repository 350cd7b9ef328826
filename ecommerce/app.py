"""``create_app``: the Sanic application serving every enabled module under ``/api/v1``.

Keyword-only on purpose: ``sanic --factory ecommerce.app:create_app`` calls the factory with an
argparse namespace first and falls back to no arguments when that fails.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from sanic import Blueprint, Sanic
from sanic_ext import Extend

from ecommerce import __version__
from ecommerce.kernel import logging as app_logging
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.events import background
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


def create_app(*, settings: Settings | None = None, name: str = "ecommerce", relay_process: str | None = None) -> Sanic:
    """``relay_process``: the wake-up address of a relay process of its own (``ecommerce serve`` with several
    workers); None runs the relay, the consumers and the jobs inside this worker."""
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
    _routers_finalized_once_around_auto_routes(app)
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

    if settings.run_relay and relay_process is not None:
        # Several workers: the relay, the consumers and the jobs run in one process of their own, managed
        # by Sanic next to the workers; each worker only wakes it when a commit published (ADR 0015).
        @app.main_process_ready
        async def start_relay_process(app: Sanic) -> None:
            app.manager.manage("EcommerceRelay", background.run_process,
                               {"settings": settings, "listen": relay_process})

        @app.after_server_start
        async def wake_relay_process(app: Sanic) -> None:
            app.ctx.relay_wake = background.WakeSender(relay_process)
            add_publish_listener(app.ctx.relay_wake)

        @app.before_server_stop
        async def stop_waking(app: Sanic) -> None:
            remove_publish_listener(app.ctx.relay_wake)
            app.ctx.relay_wake.close()
    elif settings.run_relay:
        # One worker (or create_server in tests, embedding): the background work runs beside the requests,
        # as plain asyncio tasks (app.add_task would not work under create_server).
        @app.after_server_start
        async def start_relay(app: Sanic) -> None:
            app.ctx.background_tasks = background.start_in_process(kernel, settings)

        @app.before_server_stop
        async def stop_relay(app: Sanic) -> None:
            await background.stop(getattr(app.ctx, "background_tasks", []))

    @app.after_server_stop
    async def close_kernel(app: Sanic) -> None:
        await app.ctx.throttle.close()
        kernel.close()

    return app


def _routers_finalized_once_around_auto_routes(app: Sanic) -> None:
    """At start-up sanic-ext adds a HEAD and an OPTIONS route for every path (priority -1,000), one
    ``add_route`` at a time, and finalizes the route router after each kind. Both finalizations cost:
    on a started app each ``add_route`` re-finalizes Sanic's signal router, which renders and compiles its
    whole dispatch code again (some 350 compilations), and each finalization of the route router renders
    and compiles the routing code of every path again (two of the three per start-up were redundant; with
    the signals, most of a worker's and every test server's start-up time). So just before those additions
    the signal router is set aside and the route router's ``finalize`` deferred, and just after both are
    finalized once. Nothing routes a request or dispatches a signal in between (the server is not serving
    yet, and the listeners of this start-up event were looked up before the first one ran); the HEAD
    routes are in the router's groups as soon as they are added, so the OPTIONS routes still list them."""

    def defer(*args: object, **kwargs: object) -> None:
        """Stands in for the route router's ``finalize`` while sanic-ext adds its routes."""

    def set_aside(app: Sanic) -> None:
        if app.signal_router.finalized:
            app.signal_router.reset()
        app.router.finalize = defer  # type: ignore[method-assign]

    def finalize(app: Sanic) -> None:
        del app.router.finalize  # the class's own again
        app.finalize()
        if not app.signal_router.finalized:
            app.signalize(bool(app.config.TOUCHUP))

    app.register_listener(set_aside, "before_server_start", priority=-999)
    app.register_listener(finalize, "before_server_start", priority=-1_001)
