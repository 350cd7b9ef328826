"""The target architecture at scale, as the seed draws it, with the ``diagrams`` library (cloud icons):
DNS with latency-based routing, a global load balancer, the API gateway (throttling and auth), the six
services each with its own database, the cache, the CDN, the message broker, the search index and the data
lake. The services are the seed's six; which installed module implements each comes from the registry,
so a module that does not exist yet is drawn as planned.

The library draws with random node ids and absolute icon paths; here every node gets a stable id and the
committed source names icons relative to the library (``<diagrams-icons>/...``), so the source is the
same on every machine."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from ecommerce.devtools.drawings.facts import Facts

#: The seed's services: (title, the modules that implement it, its own store).
SERVICES = (
    ("Users & auth", ("users",), "postgresql"),
    ("Product & inventory", ("catalog",), "postgresql"),
    ("Order & cart", ("orders",), "postgresql"),
    ("Payment", ("payments",), "postgresql"),
    ("Notifications", ("notifications",), "redis"),
    ("Search & recommendations", ("search", "recommendations"), "search"),
)
ICON_ROOT = "<diagrams-icons>"


ICONS = {
    "LakeFormation": "aws.analytics", "CloudFront": "aws.network", "GlobalAccelerator": "aws.network",
    "Route53": "aws.network", "Elasticsearch": "elastic.elasticsearch", "Users": "onprem.client",
    "Postgresql": "onprem.database", "Redis": "onprem.inmemory", "Kong": "onprem.network",
    "Rabbitmq": "onprem.queue", "Python": "programming.language",
}


def _icons() -> dict[str, Any]:
    return {name: getattr(importlib.import_module(f"diagrams.{where}"), name) for name, where in ICONS.items()}


def _library_root() -> str:
    """Where the library's icons are installed (``resources/`` next to the ``diagrams`` package)."""
    return str(Path(str(importlib.import_module("diagrams").__file__)).resolve().parent.parent / "resources")


def build(facts: Facts, filename: str) -> str:
    """The Graphviz source the library produces (absolute icon paths)."""
    # Imported by name: mypy, run from the repository root, would take the diagrams/ output folder for
    # the library.
    lib = importlib.import_module("diagrams")
    Cluster, Diagram, Edge, setdiagram = lib.Cluster, lib.Diagram, lib.Edge, lib.setdiagram
    icon = _icons()

    diagram = Diagram("ecommerce: target architecture at scale", filename=filename, show=False,
                      direction="TB", outformat="png", graph_attr={"pad": "0.5", "fontsize": "20"})
    setdiagram(diagram)
    try:
        users = icon["Users"]("Customers", nodeid="customers")
        dns = icon["Route53"]("DNS\nlatency routing", nodeid="dns")
        cdn = icon["CloudFront"]("CDN\nstatic content", nodeid="cdn")
        balancer = icon["GlobalAccelerator"]("Global load balancer", nodeid="load_balancer")
        users >> dns >> balancer
        users >> cdn
        with Cluster("Region: several availability zones, services autoscaled on CPU and memory"):
            gateway = icon["Kong"]("API gateway\nthrottling · JWT auth · WAF", nodeid="gateway")
            balancer >> gateway
            broker = icon["Rabbitmq"]("Message broker\nintegration events", nodeid="broker")
            cache = icon["Redis"]("Cache\n(read-through)", nodeid="cache")
            index = icon["Elasticsearch"]("Search index\n(OpenSearch)", nodeid="search_index")
            lake = icon["LakeFormation"]("Data lake\nrecommendations", nodeid="data_lake")
            for number, (title, names, store) in enumerate(SERVICES):
                installed = [n for n in names if n in facts.modules]
                modules = "\n".join(installed) if installed else "(planned)"
                with Cluster(title):
                    service = icon["Python"](f"{title.split(' ')[0]} service\n{modules}",
                                             nodeid=f"service_{number}")
                    if store == "postgresql":
                        database = icon["Postgresql"]("own database\n(PostgreSQL)", nodeid=f"database_{number}")
                    elif store == "redis":
                        database = icon["Redis"]("own store\n(Redis, NoSQL)", nodeid=f"database_{number}")
                    else:
                        database = icon["Postgresql"]("own database\n(statistics)", nodeid=f"database_{number}")
                    service >> database
                gateway >> service
                service >> Edge(style="dashed", color="#e65100") >> broker
                if store == "search":
                    service >> index
                    service >> lake
                if title in ("Users & auth", "Product & inventory"):
                    service >> Edge(style="dotted") >> cache
            broker >> Edge(style="dashed", color="#e65100") >> lake
        return str(diagram.dot.source)
    finally:
        setdiagram(None)


def source(facts: Facts) -> str:
    """The committed form: icon paths relative to the library, and a note on how to render it."""
    text = build(facts, "target-architecture").replace(_library_root(), ICON_ROOT)
    return ("// Generated by `ecommerce diagrams` (the diagrams library) from the code; do not edit by hand.\n"
            f"// Icons: {ICON_ROOT} is the diagrams library's resources folder; `ecommerce diagrams` renders the PNG.\n"
            + text)


def renderable(committed: str) -> str:
    """The committed source with the icon paths of this machine, for Graphviz."""
    return committed.replace(ICON_ROOT, _library_root())
