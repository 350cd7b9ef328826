"""The modular monolith as it runs today: one app, one box per module with its own database, the
integration events between modules (from the subscriptions) and the facade calls (from the imports)."""

from __future__ import annotations

from collections import defaultdict

from ecommerce.devtools.drawings.dot import attrs, edge, header, lines_of, node, q
from ecommerce.devtools.drawings.facts import Facts

EVENT = "#e65100"
CALL = "#1a237e"


def _short(key: str) -> str:
    """``orders.OrderPlaced.v1`` -> ``OrderPlaced``."""
    return key.split(".")[1]


def source(facts: Facts) -> str:
    lines = header("monolith", rankdir="TB", label="The modular monolith today: one process, a database per module")
    lines += [
        node("client", label=lines_of("Clients", "(HTTPS, /api/v1)"), shape="box", style="rounded"),
        node("app", label=lines_of("Sanic app (N workers)", "auth · throttling · problem errors",
                                   "run_sync thread pool"), shape="box", style="filled", fillcolor="#e8eaf6"),
        node("relay", label=lines_of("outbox relay", "(background task: at least once;", "the inbox dedupes)"),
             shape="box", style="dashed"),
        edge("client", "app"),
    ]
    for name, module in facts.modules.items():
        tables = module.tables
        listed = ", ".join(tables[:4]) + (f", +{len(tables) - 4}" if len(tables) > 4 else "")
        lines += [
            f"  subgraph {q('cluster_' + name)} {{",
            f"    graph {attrs(label=name, style='rounded', color='#7986cb')};",
            "  " + node(name, label=lines_of(name, module.description), shape="box", style="filled",
                        fillcolor="white"),
            "  " + node(name + "_db", label=lines_of(f"{name} database", listed or "(no tables)",
                                                     "+ outbox, inbox"), shape="cylinder"),
            "  " + edge(name, name + "_db", arrowhead="none"),
            "  }",
        ]
        if module.blueprint:
            lines.append(edge("app", name, color="#9e9e9e"))
    events: dict[tuple[str, str], set[str]] = defaultdict(set)
    for flow in facts.flows:
        if flow.publisher != flow.consumer and flow.publisher in facts.modules:
            events[(flow.publisher, flow.consumer)].add(_short(flow.event))
    for (publisher, consumer), names in sorted(events.items()):
        lines.append(edge(publisher, consumer, label=lines_of(*sorted(names)), style="dashed", color=EVENT,
                          fontcolor=EVENT))
    for (importer, imported), parts in facts.imports.items():
        if importer in facts.modules and imported in facts.modules and "api" in parts:
            lines.append(edge(importer, imported, label="api", color=CALL, fontcolor=CALL))
    for name, module in facts.modules.items():
        if module.publishes or module.subscriptions:
            lines.append(edge(name + "_db", "relay", style="dotted", arrowhead="none", color="#bdbdbd"))
    lines += [
        node("legend", shape="note", fontsize="9", label=lines_of(
            "solid blue: a synchronous call to another module's api",
            "dashed orange: integration events (outbox → relay → inbox)",
            "no arrow reaches into another module's database")),
        "}",
    ]
    return "\n".join(lines) + "\n"
