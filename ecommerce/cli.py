"""The ``ecommerce`` command: serve, migrate, seed, modules, events, layout, gateway, up, demo, config, lake.

A configuration mistake is one line on stderr and exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecommerce import __version__
from ecommerce.kernel import progress
from ecommerce.kernel.settings import VARIABLES, Settings, SettingsError, redact_url

if TYPE_CHECKING:
    from ecommerce.kernel.layout import Layout

EXIT_CONFIG = 2


def _kernel(settings: Settings) -> Any:
    from ecommerce.kernel.bootstrap import Kernel

    return Kernel(settings)


def migrate_all(kernel: Any) -> dict[str, list[str]]:
    with progress.bar("migrating", "module", len(kernel.modules.names()), leave=False) as bar:
        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        return dict(kernel.migrate(progress=step))


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    kernel = _kernel(settings)
    try:
        if args.status:
            print(f"{'module':<16}{'set':<8}{'migration':<32}applied")
            for state in kernel.migration_status():
                when = state.applied.isoformat(sep=" ", timespec="seconds") if state.applied else "pending"
                print(f"{state.module:<16}{state.set:<8}{state.name:<32}{when}")
            return 1 if args.check and kernel.pending_migrations() else 0
        applied = migrate_all(kernel)
        total = sum(len(names) for names in applied.values())
        for module, names in applied.items():
            for name in names:
                print(f"applied {module}: {name}")
        print(f"{total} migration(s) applied" if total else "database is up to date")
        return 0
    finally:
        kernel.close()


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    kernel = _kernel(settings)
    try:
        migrate_all(kernel)
        created = kernel.seed(demo=True, only=args.module)
        for module, lines in created.items():
            for line in lines:
                print(f"{module}: {line}")
        if args.scale is not None:  # the benchmark dataset, across every module (ecommerce.devtools.dataset)
            from ecommerce.devtools.dataset import generate

            for line in generate(kernel, args.scale, progress=not args.quiet).lines():
                print(f"dataset: {line}")
        return 0
    finally:
        kernel.close()


def cmd_modules(args: argparse.Namespace, settings: Settings) -> int:
    from ecommerce.gateway.routes import module_routes
    from ecommerce.kernel.registry import discover

    modules = discover()
    consumed: dict[str, dict[str, int]] = {}  # module -> event key -> its handlers (in declaration order)
    for module in modules.values():
        for sub in module.subscriptions:
            handlers = consumed.setdefault(module.name, {})
            handlers[sub.event.key()] = handlers.get(sub.event.key(), 0) + 1
    for name in sorted(modules):
        module = modules[name]
        state = "enabled" if settings.module_enabled(name) else "disabled"
        print(f"{name} ({state}) - {module.description}")
        print(f"  database:  {redact_url(settings.database_url_for(name))}")
        print(f"  tables:    {', '.join(module.tables) or '-'}")
        print(f"  publishes: {', '.join(e.key() for e in module.publishes) or '-'}")
        events = [key if n == 1 else f"{key} ({n} handlers)" for key, n in consumed.get(name, {}).items()]
        print(f"  consumes:  {', '.join(events) or '-'}")
        routes = sorted(f"{route.method} {route.path}" for route in module_routes(module))
        print(f"  routes:    {routes[0] if routes else '-'}")
        for route in routes[1:]:
            print(f"             {route}")
    return 0


def cmd_events(args: argparse.Namespace, settings: Settings) -> int:
    kernel = _kernel(settings)
    try:
        if args.action == "consume":
            return _consume(kernel, args.module)
        if args.action == "replay-dead":
            return _replay_dead(kernel, args.module)
        if args.action == "relay":
            report = kernel.relay_until_idle()
            print(f"delivered {report.delivered}, retried {report.retried}, failed {report.failed}")
            for error in report.errors:
                print(f"  {error}", file=sys.stderr)
            return 0
        _status(kernel)
        return 0
    finally:
        kernel.close()


def age(seconds: float | None) -> str:
    """``42s``, ``3m05s``, ``2h07m``, ``3d04h``; ``-`` for nothing."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    for size, unit, small, small_unit in ((86400, "d", 3600, "h"), (3600, "h", 60, "m"), (60, "m", 1, "s")):
        if whole >= size:
            return f"{whole // size}{unit}{whole % size // small:02d}{small_unit}"
    return f"{whole}s"


def _status(kernel: Any) -> None:
    """``ecommerce events status``: each outbox's backlog, then (with a broker) each consuming module's
    queues. A broker that does not answer is one line: the outboxes are what matters then."""
    print(f"{'module':<16}{'pending':>8}{'failed':>8}{'delivered':>10}  oldest pending")
    for row in kernel.outbox_state():
        print(f"{row.module:<16}{row.pending:>8}{row.failed:>8}{row.delivered:>10}  {age(row.oldest_pending)}")
    if kernel.consumers is None:
        return
    where = f"{redact_url(kernel.settings.event_broker_url)}, queues {kernel.settings.event_broker_namespace}.*"
    try:
        depths = kernel.consumers.depths()
    except ConnectionError as exc:  # BrokerUnavailable
        print(f"\nbroker unavailable ({where}): {exc}")
        return
    print(f"\nbroker {where}")
    print(f"{'module':<16}{'ready':>8}{'retrying':>10}{'dead':>8}")
    for depth in depths:
        print(f"{depth.module:<16}{depth.ready:>8}{depth.retrying:>10}{depth.dead:>8}")


def _replay_dead(kernel: Any, modules: list[str] | None) -> int:
    """``ecommerce events replay-dead``: dead letters back into their queues, parked outbox rows back to
    the relay; one line per module."""
    try:
        replayed = kernel.replay_dead(modules or None)
    except ValueError as exc:
        print(f"ecommerce: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConnectionError as exc:  # BrokerUnavailable: checked before anything moved
        print(f"ecommerce: nothing replayed, {exc}", file=sys.stderr)
        return 1
    for row in replayed:
        line = f"{row.module}: {row.parked} parked event(s) due again"
        if row.dead_letters is not None:
            line += f", {row.dead_letters} dead letter(s) back in {kernel.consumers.client.topology.queue(row.module)}"
        print(line)
    return 0


def _consume(kernel: Any, modules: list[str] | None) -> int:
    """``ecommerce events consume``: this process consumes the modules' queues until SIGTERM or Ctrl-C,
    and relays their outboxes (a worker without the web server, e.g. a service that only reacts)."""
    if kernel.consumers is None:
        print("ecommerce: events consume needs a broker (ECOMMERCE_EVENT_BROKER_URL=amqp://...)", file=sys.stderr)
        return EXIT_CONFIG
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        kernel.consumers.start(modules or None)
    except ValueError as exc:
        print(f"ecommerce: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"consuming {', '.join(modules or kernel.consumers.by_module)}", flush=True)
    while not stop.wait(kernel.settings.relay_interval):
        try:
            kernel.relay_once()
        except Exception as exc:  # the next pass tries again; the consumers keep running meanwhile
            print(f"relay pass failed: {exc!r}", file=sys.stderr, flush=True)
    return 0


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from ecommerce.kernel import module_settings

    for key, value in sorted(vars(settings).items()):
        if key in ("module_settings", "environ", "config_rest"):
            continue  # what the modules read: shown below, per module
        shown: object = value
        if key == "secret_key" and value:
            shown = "(set)"
        elif key in ("database_url", "redis_url", "event_broker_url") and value:
            shown = redact_url(value)
        elif key == "module_database_urls":
            shown = {module: redact_url(url) for module, url in value.items()}
        print(f"{key} = {shown}")
    declared = _installed_settings()
    names = list(VARIABLES)
    for module, values in module_settings.check(settings, declared).items():
        print(f"\n[{module}]")
        cls = declared[module]
        assert cls is not None
        for variable, name, _default, spec in module_settings.variables(module, cls):
            value = getattr(values, name)
            print(f"{name} = {'(set)' if spec.secret and value else value}")
            names.append(variable)
    print("\nvariables: " + ", ".join(names) + ", ECOMMERCE_DATABASE_URL_<MODULE>, ECOMMERCE_CONFIG")
    return 0


def _layout(args: argparse.Namespace, settings: Settings) -> Layout:
    """The layout named by ``--layout``, with every service at ``--instances`` instances when given."""
    from ecommerce.kernel import layout

    loaded = layout.load(args.layout, disabled=settings.disabled_modules)
    instances = getattr(args, "instances", None)
    return loaded.with_instances(instances) if instances is not None else loaded


def _service_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """``serve --layout L --service S``: the settings of that one service (a layout of one service needs no
    ``--service``)."""
    if args.layout is None:
        flags = (("--service", args.service), ("--instance", args.instance), ("--instances", args.instances))
        for flag, value in flags:
            if value is not None:
                raise SettingsError(f"{flag} needs --layout")
        return settings
    layout = _layout(args, settings)
    name = args.service or (next(iter(layout.services)) if len(layout.services) == 1 else None)
    if name is None:
        raise SettingsError(f"--layout {args.layout}: name the service to start with --service "
                            f"({', '.join(layout.services)})")
    return layout.settings_for(name, settings, args.instance or 1)


def cmd_layout(args: argparse.Namespace, settings: Settings) -> int:
    """``ecommerce layout show``: services, their modules, addresses and databases (passwords redacted)."""
    layout = _layout(args, settings)
    print(f"layout {layout.name} ({layout.path})")
    print(f"gateway  {layout.gateway}  (nginx; default service {layout.default_service})")
    broker = layout.broker_url or settings.event_broker_url
    print(f"events   {redact_url(broker) if broker else 'in-process (no broker)'}")
    for service in layout.services.values():
        where = ", ".join(map(str, service.addresses))
        count = f"  ({service.instances} instances)" if service.instances > 1 else ""
        print(f"\nservice {service.name}  {where}{count}")
        resolved = settings.replace(module_database_urls={
            **settings.module_database_urls, **{m: u for m, u in service.databases.items() if u is not None}})
        for module in service.modules:
            print(f"  {module:<16}{redact_url(resolved.database_url_for(module))}")
    return 0


def cmd_gateway(args: argparse.Namespace, settings: Settings) -> int:
    """``ecommerce gateway nginx``: the nginx configuration for a layout, from the module registry."""
    from ecommerce.gateway.supervisor import gateway_config, write_openapi

    if bool(args.tls_cert) != bool(args.tls_key):
        print("ecommerce: --tls-cert and --tls-key go together", file=sys.stderr)
        return EXIT_CONFIG
    tls = (os.path.abspath(args.tls_cert), os.path.abspath(args.tls_key)) if args.tls_cert else None
    layout = _layout(args, settings)
    try:
        openapi = write_openapi(Path(args.openapi).resolve(), settings) if args.openapi else None
        text = gateway_config(layout, settings, port=args.port, layout_source=str(args.layout), tls=tls,
                              openapi=openapi)
    except ValueError as exc:  # two modules' routes nginx could not tell apart
        print(f"ecommerce: {exc}", file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.output} (layout {layout.name}, listening on port {args.port or layout.gateway.port})",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    """``ecommerce up``: nginx and every service of a layout as child processes (ecommerce.gateway.supervisor)."""
    from ecommerce.gateway import supervisor

    layout = _layout(args, settings)
    for name in layout.services:  # a service that cannot start says why (one line, exit 2) before anything runs
        layout.settings_for(name, settings)
    env = dict(os.environ)
    if not settings.trusted_proxies and all(
        s.address.host in ("127.0.0.1", "localhost", "::1") for s in layout.services.values()
    ):  # the services listen on loopback only: the gateway is the one proxy that reaches them
        env["ECOMMERCE_TRUSTED_PROXIES"] = "127.0.0.1"
    source = str(args.layout) if "/" not in str(args.layout) and not str(args.layout).endswith(".toml") \
        else os.path.abspath(args.layout)
    return supervisor.run(layout, settings, layout_source=source, port=args.port,
                          run_dir=settings.data_dir.resolve() / "up" / layout.name,
                          ready_timeout=args.ready_timeout, env=env, demo=args.demo, instances_flag=args.instances)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from ecommerce.app import create_app
    from ecommerce.kernel.events import background

    settings = _service_settings(args, settings)
    if args.layout is not None and settings.env != "production" and not args.no_migrate:
        from ecommerce.kernel.provision import ensure_databases

        for name in ensure_databases(settings.database_url_for(m) for m in settings.modules or ()):
            print(f"created database {name}", flush=True)
    kernel = _kernel(settings)
    try:
        if not args.no_migrate:
            migrate_all(kernel)
        if args.demo:
            for module, lines in kernel.seed(demo=True).items():
                for line in lines:
                    print(f"demo {module}: {line}")
    finally:
        kernel.close()
    host = args.host or settings.host
    port = args.port or settings.port
    single = args.workers == 1
    # Several workers: the relay, the consumers and the jobs get one process of their own (ADR 0015).
    relay_process = None if single else background.wake_address(str(os.getpid()))
    loader = AppLoader(factory=partial(create_app, settings=settings, relay_process=relay_process))
    app = loader.load()
    if bool(args.tls_cert) != bool(args.tls_key):
        print("ecommerce: --tls-cert and --tls-key go together", file=sys.stderr)
        return EXIT_CONFIG
    ssl = {"cert": args.tls_cert, "key": args.tls_key} if args.tls_cert else None
    app.prepare(
        host=host, port=port, workers=args.workers, single_process=single, motd=args.motd, ssl=ssl
    )
    scheme = "https" if ssl else "http"
    shop = f"shop: {scheme}://{host}:{port}/, " if settings.module_enabled("storefront") else ""
    print(f"serving on {scheme}://{host}:{port} ({shop}API docs: {scheme}://{host}:{port}/docs)", flush=True)
    if single:
        Sanic.serve_single(primary=app)
    else:
        from ecommerce.kernel.http.workers import end_start_up_wait_on_shutdown

        end_start_up_wait_on_shutdown()
        Sanic.serve(primary=app, app_loader=loader)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from ecommerce.demo.command import run

    return run(args.url, f"http://{settings.host}:{settings.port}", wait=args.wait)


def _catalog_products(settings: Settings) -> dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]:
    """``lake query --with-catalog``: the catalog's live products, the reference data events do not carry
    (an order line has a product id, not its category)."""
    from ecommerce.modules.catalog import api as catalog

    def read() -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        after = 0
        while page := catalog.documents(None, after=after, limit=500):
            rows += [(d.product_id, d.name, d.category_id, d.category, d.brand, d.price, d.currency) for d in page]
            after = page[-1].product_id
        return rows

    kernel = _kernel(settings)
    try:
        rows = kernel.runner.call(read)
    finally:
        kernel.close()
    columns = [("product_id", "BIGINT"), ("name", "VARCHAR"), ("category_id", "BIGINT"), ("category", "VARCHAR"),
               ("brand", "VARCHAR"), ("price", "BIGINT"), ("currency", "VARCHAR")]
    return {"products": (columns, rows)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecommerce", description="Reference e-commerce modular monolith.")
    parser.add_argument("--version", action="version", version=f"ecommerce {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="migrate, then serve the HTTP API")
    serve.add_argument("--host", help="interface to bind (default: ECOMMERCE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: ECOMMERCE_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="Sanic worker processes (default 1)")
    serve.add_argument("--demo", action="store_true", help="load demo data (idempotent)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations first")
    serve.add_argument("--motd", action="store_true", help="show Sanic's start-up banner")
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain)")
    serve.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    serve.add_argument("--layout", metavar="NAME|FILE",
                       help="start one service of a deployment layout (shipped: monolith, split; or a .toml path)")
    serve.add_argument("--service", metavar="NAME", help="with --layout: the service to start")
    serve.add_argument("--instance", type=int, metavar="I",
                       help="with --layout: which instance of the service (1..N: on the service's port + I - 1)")
    serve.add_argument("--instances", type=int, metavar="N",
                       help="with --layout: every service runs as N instances (overrides the layout's instances)")
    serve.set_defaults(handler=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply pending migrations of every enabled module")
    migrate.add_argument("--status", action="store_true", help="list migrations and when they were applied")
    migrate.add_argument("--check", action="store_true", help="with --status: exit 1 if any is pending")
    migrate.set_defaults(handler=cmd_migrate)

    seed = sub.add_parser("seed", help="load demo data (idempotent)")
    seed.add_argument("--scale", type=int, default=None,
                      help="also generate the benchmark dataset: N x (10k orders, 2k users, 1k products)")
    seed.add_argument("--quiet", action="store_true", help="no progress bars")
    seed.add_argument("--module", action="append", help="only this module (repeatable)")
    seed.set_defaults(handler=cmd_seed)

    modules = sub.add_parser("modules", help="modules with their tables, routes and events")
    modules.set_defaults(handler=cmd_modules)

    events = sub.add_parser("events", help="integration events: relay everything due now, outbox and queue "
                                           "status, consume the broker's queues, or replay dead events")
    events.add_argument("action", choices=["relay", "status", "consume", "replay-dead"])
    events.add_argument("--module", action="append",
                        help="consume, replay-dead: only this module (repeatable)")
    events.set_defaults(handler=cmd_events)

    layout = sub.add_parser("layout", help="deployment layouts: which service hosts which modules, where")
    layout.add_argument("action", choices=["show"])
    layout.add_argument("--layout", metavar="NAME|FILE", default="monolith",
                        help="a shipped layout (monolith, split) or a .toml path (default monolith)")
    layout.add_argument("--instances", type=int, metavar="N", help="every service as N instances")
    layout.set_defaults(handler=cmd_layout)

    gateway = sub.add_parser("gateway", help="write the nginx configuration of a layout's gateway")
    gateway.add_argument("engine", choices=["nginx"])
    gateway.add_argument("--layout", metavar="NAME|FILE", required=True,
                         help="a shipped layout (monolith, split) or a .toml path")
    gateway.add_argument("--output", metavar="PATH", help="write here instead of stdout")
    gateway.add_argument("--port", type=int, help="listen on this port instead of the layout's gateway port")
    gateway.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain)")
    gateway.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    gateway.add_argument("--openapi", metavar="PATH",
                         help="also write the whole API's OpenAPI document here and serve it as /docs/openapi.json "
                              "(a split layout: no one service knows every route)")
    gateway.add_argument("--instances", type=int, metavar="N",
                         help="every service as N instances (overrides the layout's instances)")
    gateway.set_defaults(handler=cmd_gateway)

    up = sub.add_parser("up", help="start nginx and every service of a layout; Ctrl-C stops them all")
    up.add_argument("--layout", metavar="NAME|FILE", default="monolith",
                    help="a shipped layout (monolith, split) or a .toml path (default monolith)")
    up.add_argument("--port", type=int, help="the gateway's port (default: the layout's, 8000)")
    up.add_argument("--demo", action="store_true", help="each service loads its demo data (idempotent)")
    up.add_argument("--instances", type=int, metavar="N",
                    help="run every service as N instances behind the gateway (overrides the layout's instances)")
    up.add_argument("--ready-timeout", type=float, default=120.0, metavar="SECONDS",
                    help="give up (and stop everything) if a /readyz does not answer within this (default 120)")
    up.set_defaults(handler=cmd_up)

    demo = sub.add_parser("demo", help="a one-minute tour over HTTP: register, browse, search, buy, pay, notifications")
    demo.add_argument("--url", help="the app to drive (default: the configured host:port if it answers, "
                                    "else start one)")
    demo.add_argument("--wait", type=float, default=30.0, help="seconds to wait for each asynchronous effect")
    demo.set_defaults(handler=cmd_demo)

    config = sub.add_parser("config", help="show the effective settings")
    config.set_defaults(handler=cmd_config)

    from ecommerce.devtools.commands import add_commands

    add_commands(sub)  # `ecommerce adr ...`, `ecommerce diagrams`

    from ecommerce.kernel.lake.commands import add_commands as add_lake_commands

    add_lake_commands(sub, _catalog_products)  # `ecommerce lake compact | query | views`

    from ecommerce.kernel.registry import discover

    for module in discover().values():  # modules add their own commands (e.g. `ecommerce users ...`)
        module.add_commands(sub)
    return parser


def _installed_settings() -> dict[str, type | None]:
    from ecommerce.kernel.registry import discover

    return {name: module.settings for name, module in discover().items()}


def _check_module_settings(settings: Settings) -> None:
    """Every installed module's settings, read and validated before any command (or server worker) starts:
    a bad ``ECOMMERCE_ORDERS_ORDER_TTL`` or ``[orders]`` value is the same one line as a kernel setting."""
    from ecommerce.kernel import module_settings

    module_settings.check(settings, _installed_settings())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        settings = Settings.from_env()
        _check_module_settings(settings)
        return handler(args, settings)
    except SettingsError as exc:
        print(f"ecommerce: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
