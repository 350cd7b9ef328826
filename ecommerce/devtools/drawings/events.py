"""Integration events over RabbitMQ, drawn from the registry: the publishing modules, the topic exchange,
each consuming module's queue with the routing keys it binds, its retry and dead-letter queues, and the
module that consumes it.

The names are the broker's own (``Topology`` names every exchange and queue, for the default namespace),
the bindings are the modules' subscriptions, the retry delays are ``retry_delay_ms`` over the default
attempts: a module, a subscription or a naming rule that changes changes the drawing, and the drift test
notices a drawing that was not regenerated."""

from __future__ import annotations

from ecommerce.devtools.drawings.dot import attrs, edge, header, lines_of, node, q
from ecommerce.devtools.drawings.facts import Facts
from ecommerce.kernel.events.rabbitmq.consumer import retry_delay_ms
from ecommerce.kernel.events.rabbitmq.topology import Topology
from ecommerce.kernel.settings import Settings

EVENT = "#e65100"
RETRY = "#f9a825"
DEAD = "#b71c1c"
ACK = "#2e7d32"


def topology(facts: Facts) -> Topology:
    """The topology the kernel declares for these modules (as ``kernel.bootstrap`` builds it)."""
    defaults = Settings()
    return Topology(
        defaults.event_broker_namespace,
        {name: [sub.event.key() for sub in module.subscriptions]
         for name, module in facts.modules.items() if module.subscriptions},
    )


def retry_delays() -> list[int]:
    """The retry queues' delays (ms) with the default settings: one queue per delay."""
    defaults = Settings()
    return sorted({retry_delay_ms(attempt, defaults.event_retry_base)
                   for attempt in range(1, defaults.relay_max_attempts)})


def _seconds(delays: list[int]) -> str:
    shown = [f"{d // 1000} s" if d % 1000 == 0 else f"{d} ms" for d in delays]
    return ", ".join(shown) if len(shown) <= 4 else ", ".join(shown[:3]) + f" … {shown[-1]}"


def source(facts: Facts) -> str:
    broker = topology(facts)
    delays = retry_delays()
    lines = header("events", rankdir="LR",
                   label=f"Integration events over RabbitMQ (namespace {broker.namespace!r}): publishers, "
                         "the exchange, a queue per consuming module")
    lines.append(node("exchange", label=lines_of(broker.exchange, "topic exchange", "routing key = event key"),
                      shape="hexagon", style="filled", fillcolor="#ffe0b2"))
    for name, module in facts.modules.items():
        if not module.publishes:
            continue
        published = sorted(event.key() for event in module.publishes)
        lines.append(node(f"publisher:{name}", label=lines_of(name, "outbox → relay"), shape="box",
                          style="rounded,filled", fillcolor="#e8eaf6"))
        lines.append(edge(f"publisher:{name}", "exchange", label=lines_of(*published), color=EVENT,
                          fontcolor=EVENT))
    for name, keys in broker.routes.items():
        queue, dead = broker.queue(name), broker.dead_queue(name)
        retry = broker.retry_queue(name, delays[0]).rsplit(".", 1)[0] + ".<ms>"
        lines += [
            f"  subgraph {q('cluster_' + name)} {{",
            f"    graph {attrs(label=name, style='rounded', color='#7986cb')};",
            "  " + node(f"queue:{name}", label=lines_of(queue, "durable"), shape="box", style="filled",
                        fillcolor="#fff3e0"),
            "  " + node(f"consumer:{name}", label=lines_of(name, "inbox transaction", "then ack"), shape="box",
                        style="rounded,filled", fillcolor="#e8eaf6"),
            "  " + node(f"retry:{name}", label=lines_of(retry, f"{len(delays)} queues, TTL {_seconds(delays)}"),
                        shape="box", style="filled", fillcolor="#fffde7"),
            "  " + node(f"dead:{name}", label=lines_of(dead, "dead letters"), shape="box", style="filled",
                        fillcolor="#ffebee"),
            "  " + edge(f"queue:{name}", f"consumer:{name}", label="batch", color=ACK, fontcolor=ACK),
            "  " + edge(f"consumer:{name}", f"retry:{name}", label="handler failed", color=RETRY, fontcolor=RETRY),
            "  " + edge(f"retry:{name}", f"queue:{name}", label="TTL over", style="dashed", color=RETRY,
                        fontcolor=RETRY, constraint="false"),
            "  " + edge(f"consumer:{name}", f"dead:{name}", label="attempts used up\nor unreadable",
                        color=DEAD, fontcolor=DEAD),
            "  " + edge(f"dead:{name}", f"queue:{name}", label="events replay-dead", style="dotted",
                        color=DEAD, fontcolor=DEAD, constraint="false"),
            "  }",
            edge("exchange", f"queue:{name}", label=lines_of(*sorted(set(keys))), color=EVENT, fontcolor=EVENT),
        ]
    lines += [
        node("legend", shape="note", fontsize="9", label=lines_of(
            "orange: published with confirms; an outbox row is marked delivered once the broker confirmed it",
            "green: handlers run in the module's inbox transaction; the message is acked after its commit",
            f"yellow: a failed message waits in a retry queue, then comes back ({_seconds(delays)})",
            f"red: after {Settings().relay_max_attempts} attempts (or an envelope nobody can read): dead letters, "
            "kept until replayed",
            "edge labels from the exchange: the routing keys each queue binds")),
        "}",
    ]
    return "\n".join(lines) + "\n"
