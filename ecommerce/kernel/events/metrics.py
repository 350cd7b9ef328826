"""Prometheus metrics of the integration events: what the relay published, what the consumers did, and
how far behind the relay is.

Why counters fed by reports rather than queries: a relay pass (``RelayReport``) and a consumer's batch
(``ConsumeReport``) already know what happened, so counting costs nothing on the hot path. Only the lag
is read from the outboxes, at scrape time (``lag`` is a callable the kernel supplies), because it is a
property of the backlog, not of any pass: a relay that is stuck reports nothing at all.

Every series has a ``module`` label: the module whose outbox or queue holds the event at that stage.

- ``events_published_total``: outbox rows the relay delivered (in-process: every handler accepted it;
  with a broker: the broker confirmed it), by publishing module;
- ``events_consumed_total``: events a consuming module processed (in-process: its handlers succeeded;
  with a broker: the message was acked after the inbox commit), by consuming module. A redelivery
  counts again;
- ``events_retried_total``: events scheduled for another attempt: an outbox row backing off (by
  publishing module), or with a broker a message sent to its retry queue (by consuming module);
- ``events_dead_total``: events given up on: an outbox row parked after the last attempt (by publishing
  module), or with a broker a message dead-lettered (by consuming module);
- ``events_relay_lag_seconds``: the age of the oldest outbox row that is due but not delivered, per
  publishing module (0 when none is waiting).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ecommerce.kernel.events.relay import RelayReport

log = logging.getLogger("ecommerce.events")
#: Seconds each publishing module's relay is behind (computed when scraped).
Lag = Callable[[], Mapping[str, float]]
LAG = "events_relay_lag_seconds"
LAG_HELP = "Age of the oldest due, undelivered outbox row (0: nothing waiting)"


class Outcome(Protocol):
    """What one consumer batch did (``rabbitmq.ConsumeReport``, without importing aio-pika here)."""

    acked: int
    retried: int
    dead: int


class _LagCollector(Collector):
    def __init__(self, lag: Lag) -> None:
        self.lag = lag

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(LAG, LAG_HELP, labels=["module"])  # no outbox read at registration

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(LAG, LAG_HELP, labels=["module"])
        try:
            lag = self.lag()
        except Exception:  # a database that does not answer must not cost the other metrics (/readyz says why)
            log.warning("event lag not measured", exc_info=True)
            lag = {}
        for module, seconds in sorted(lag.items()):
            family.add_metric([module], seconds)
        yield family


class EventMetrics:
    """The event counters of one process, in a registry of their own (rendered next to the HTTP ones)."""

    def __init__(self, lag: Lag) -> None:
        self.registry = CollectorRegistry()
        self.published = Counter("events_published_total", "Outbox events delivered by the relay",
                                 ["module"], registry=self.registry)
        self.consumed = Counter("events_consumed_total", "Events processed by a consuming module",
                                ["module"], registry=self.registry)
        self.retried = Counter("events_retried_total", "Events scheduled for another attempt",
                               ["module"], registry=self.registry)
        self.dead = Counter("events_dead_total", "Events parked or dead-lettered after the last attempt",
                            ["module"], registry=self.registry)
        self.registry.register(_LagCollector(lag))

    def relay_report(self, module: str, report: RelayReport) -> None:
        """``Relay(on_report=...)``: one publishing module's share of a pass."""
        self._add(self.published, module, report.delivered)
        self._add(self.retried, module, report.retried)
        self._add(self.dead, module, report.failed)

    def consumed_in_process(self, module: str, events: int) -> None:
        """``InProcessTransport(on_consumed=...)``: events whose handlers in ``module`` all succeeded."""
        self._add(self.consumed, module, events)

    def consume_report(self, module: str, report: Outcome) -> None:
        """``ModuleConsumer(on_report=...)``: one batch taken from ``module``'s queue."""
        self._add(self.consumed, module, report.acked)
        self._add(self.retried, module, report.retried)
        self._add(self.dead, module, report.dead)

    @staticmethod
    def _add(counter: Counter, module: str, amount: int) -> None:
        if amount:
            counter.labels(module).inc(amount)

    def render(self) -> bytes:
        """The text exposition; reads the outboxes (the lag), so call it off the event loop."""
        return generate_latest(self.registry)
