"""Prometheus series of the read replicas: where marked reads went, and each replica's health and lag.

- ``db_replica_reads_total{module, target}``: statements of ``replica_reads`` use cases, by where they ran
  (``replica``, or ``primary`` when the replica was skipped: lagging, down, or the caller wrote recently);
- ``db_replica_up{module}``: 1 while the replica is used, 0 while it is skipped;
- ``db_replica_lag_seconds{module}``: the lag measured at the last check (absent while it is down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ecommerce.kernel.replicas import Replica


class _ReplicaCollector(Collector):
    def __init__(self, replicas: Callable[[], Mapping[str, Replica]]) -> None:
        self._replicas = replicas

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("db_replica_up", "1 while the module's replica serves reads", labels=["module"])
        lag = GaugeMetricFamily("db_replica_lag_seconds", "Replica lag at the last check", labels=["module"])
        for module, replica in self._replicas().items():
            state = replica.state
            up.add_metric([module], 1.0 if state.status == "ok" else 0.0)
            if state.lag is not None:
                lag.add_metric([module], state.lag)
        yield up
        yield lag


class ReplicaMetrics:
    """The replica series of one process, in a registry of their own (rendered after the HTTP ones)."""

    def __init__(self, replicas: Callable[[], Mapping[str, Replica]]) -> None:
        self.registry = CollectorRegistry()
        self.reads = Counter("db_replica_reads", "Statements of replica_reads use cases, by where they ran",
                             ["module", "target"], registry=self.registry)
        self.registry.register(_ReplicaCollector(replicas))
        self._replicas = replicas

    def read(self, module: str, target: str) -> None:
        self.reads.labels(module=module, target=target).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry) if self._replicas() else b""
