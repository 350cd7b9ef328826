"""One drawing per shipped deployment layout (``ecommerce/layouts/*.toml``): the nginx gateway in front,
the route prefixes it sends to each service, each service with its modules and address, each service's
database(s), how events travel (the broker, or in-process), and which services call which over HTTP
(remote facades: ``/internal/<module>/...``).

Drawn from the layout files through the same code that runs them (:func:`ecommerce.kernel.layout.load`
and the gateway's :func:`ecommerce.gateway.nginx.locations`), so moving a module to another service,
adding a route or a layout changes the drawing, and the drift test notices one not regenerated. The
layouts are read without the environment (``${VAR:-default}`` takes its default): the same bytes on
every machine.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from ecommerce.devtools.drawings.dot import edge, h, header, lines_of, node
from ecommerce.devtools.drawings.facts import Facts
from ecommerce.gateway.nginx import HIDDEN, locations
from ecommerce.gateway.routes import module_routes
from ecommerce.kernel.layout import SHIPPED, WILDCARD, Layout, load

API = "/api/v1"
EVENT = "#e65100"
ROUTE = "#1a237e"
CALL = "#2e7d32"


def shipped() -> list[Path]:
    """The layout files shipped with the package, by name."""
    return sorted(SHIPPED.glob("*.toml"))


def read(path: Path, facts: Facts) -> Layout:
    """The layout as it would run with these modules installed. A layout that names its modules (no
    ``*``) cannot host a module it has never heard of: such a one is left out, as if disabled."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    named = {m for table in raw.get("services", {}).values() for m in table.get("modules", [])}
    unhosted = () if WILDCARD in named else tuple(m for m in facts.modules if m not in named)
    return load(path, installed=facts.modules, disabled=unhosted, environ={})


def _pretty(path: str, match: str) -> str:
    """A location as a reader writes it: ``/products`` for a prefix, ``/products/*/recommendations`` for
    one of the exact regular expressions."""
    if match == "~":
        path = path.removeprefix("^").removesuffix("/?$").replace("[^/]+", "*").replace("\\", "")
    return path.removeprefix(API) or "/"


def prefixes(layout: Layout, facts: Facts) -> dict[str, list[str]]:
    """Service -> the paths under /api/v1 the gateway sends to it (what ``gateway nginx`` writes)."""
    routes = {m: module_routes(facts.modules[m]) for s in layout.services.values() for m in s.modules}
    out: dict[str, list[str]] = defaultdict(list)
    for location in locations(layout, routes):
        if location.match in ("=", "~"):
            out[location.service].append(_pretty(location.path, location.match))
    return {service: sorted(set(paths)) for service, paths in out.items()}


def _database(url: str | None) -> str:
    if url is None:
        return "the usual settings"
    parts = urlsplit(url)
    kind = {"postgresql": "PostgreSQL", "postgres": "PostgreSQL", "sqlite": "SQLite"}.get(parts.scheme, parts.scheme)
    name = Path(parts.path).name if kind == "SQLite" else parts.path.lstrip("/")
    return f"{kind} {name}"


def _rows(items: list[str], per_line: int = 3) -> list[str]:
    return [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]


def source(facts: Facts, path: Path) -> str:
    """The Graphviz source of one layout's drawing."""
    layout = read(path, facts)
    routed = prefixes(layout, facts)
    where = f"ecommerce/layouts/{path.name}" if path.parent == SHIPPED else path.name
    title = (f"Layout {layout.name} ({where}): {len(layout.services)} service(s) "
             "behind the nginx gateway")
    lines = header(f"layout-{layout.name}", rankdir="TB", label=title)
    lines += [
        node("client", label=lines_of("Clients", f"(HTTP, {API})"), shape="box", style="rounded"),
        node("gateway", label=lines_of("nginx gateway", str(layout.gateway),
                                       f"ecommerce up --layout {layout.name}",
                                       "404: " + ", ".join(HIDDEN)),
             shape="box", style="filled", fillcolor="#fff3e0"),
        edge("client", "gateway"),
    ]
    for service in layout.services.values():
        rows = "".join(f"<BR/>{h(module)}" for module in service.modules)
        label = (f"<<B>service {h(service.name)}</B><BR/>{h(str(service.address))}"
                 f"<BR/><I>modules:</I>{rows}>")
        lines.append(f'  "service:{service.name}" [label={label}, shape="box", style="filled", '
                     'fillcolor="#e8eaf6", fontname="Helvetica"];')
        paths = _rows(routed.get(service.name, []))
        if service.name == layout.default_service:
            paths += ["and /docs, /healthz, /readyz,", "/problems, any other path"]
        lines.append(edge("gateway", f"service:{service.name}", label=lines_of(f"{API} +", *paths), color=ROUTE,
                          fontcolor=ROUTE))
        by_database: dict[str, list[str]] = defaultdict(list)
        for module in service.modules:
            by_database[_database(service.databases.get(module))].append(module)
        for database, modules in sorted(by_database.items()):
            name = f"db:{service.name}:{database}"
            detail = ("ECOMMERCE_DATABASE_URL_<MODULE>,", "ECOMMERCE_DATABASE_URL,", "else SQLite data/ecommerce.db") \
                if database == "the usual settings" else (", ".join(modules),)
            shown = "databases from the settings:" if database == "the usual settings" else database
            lines.append(node(name, label=lines_of(shown, *detail), shape="cylinder"))
            lines.append(edge(f"service:{service.name}", name, arrowhead="none"))
    if layout.broker_url:
        lines.append(node("events", label=lines_of("RabbitMQ", "integration events", "(outbox → relay → queues)"),
                          shape="box", style="filled", fillcolor="#ffe0b2"))
    else:
        lines.append(node("events", shape="note", label=lines_of(
            "events in-process (outbox → relay → inbox)", "RabbitMQ with ECOMMERCE_EVENT_BROKER_URL")))
    for service in layout.services.values():
        lines.append(edge(f"service:{service.name}", "events", style="dashed", dir="both", color=EVENT))
    for (caller, host), modules in sorted(remote_calls(layout, facts).items()):
        lines.append(edge(f"service:{caller}", f"service:{host}", label=lines_of(
            "facade calls", *(f"/internal/{m}/..." for m in modules)), color=CALL, fontcolor=CALL, style="bold"))
    lines += ["}"]
    return "\n".join(lines) + "\n"


def remote_calls(layout: Layout, facts: Facts) -> dict[tuple[str, str], list[str]]:
    """(calling service, hosting service) -> the modules whose facades it calls over HTTP: each module's
    ``requires`` with a remotable facade, hosted by another service; and users (token checks) for every
    service that does not host it."""
    calls: dict[tuple[str, str], set[str]] = defaultdict(set)
    for service in layout.services.values():
        needed = {dep for module in service.modules for dep in facts.modules[module].requires}
        if "users" in facts.modules and facts.modules["users"].facade:
            needed.add("users")
        for dep in sorted(needed - set(service.modules)):
            host = next((other.name for other in layout.services.values() if dep in other.modules), None)
            if host is not None and facts.modules[dep].facade:
                calls[(service.name, host)].add(dep)
    return {key: sorted(value) for key, value in calls.items()}


def sources(facts: Facts) -> dict[str, str]:
    """``layout-<name>.dot`` for every shipped layout."""
    return {f"layout-{path.stem}.dot": source(facts, path) for path in shipped()}
