"""The event metrics' own rules: counters by module from the reports, the lag read at scrape time, and a
lag that cannot be read costing nothing else."""

from __future__ import annotations

from ecommerce.kernel.events.metrics import EventMetrics
from ecommerce.kernel.events.rabbitmq import ConsumeReport
from ecommerce.kernel.events.relay import RelayReport


def test_reports_move_the_counters_of_their_module_and_the_lag_is_read_when_scraped() -> None:
    reads: list[int] = []

    def lag() -> dict[str, float]:
        reads.append(1)
        return {"orders": 12.5, "users": 0.0}

    metrics = EventMetrics(lag)
    assert reads == []  # registering the collector reads no outbox
    metrics.relay_report("orders", RelayReport(delivered=3, retried=1, failed=1))
    metrics.consume_report("notifications", ConsumeReport(acked=2, retried=1, dead=0))
    metrics.consumed_in_process("search", 4)
    text = metrics.render().decode()
    assert reads == [1]
    for line in ('events_published_total{module="orders"} 3.0', 'events_retried_total{module="orders"} 1.0',
                 'events_dead_total{module="orders"} 1.0', 'events_consumed_total{module="notifications"} 2.0',
                 'events_retried_total{module="notifications"} 1.0', 'events_consumed_total{module="search"} 4.0',
                 'events_relay_lag_seconds{module="orders"} 12.5', 'events_relay_lag_seconds{module="users"} 0.0'):
        assert line in text.splitlines(), line
    assert 'events_dead_total{module="notifications"}' not in text  # nothing died there: no series


def test_a_lag_that_cannot_be_read_leaves_the_counters_scrapable() -> None:
    def lag() -> dict[str, float]:
        raise ConnectionError("the orders database does not answer")

    metrics = EventMetrics(lag)
    metrics.relay_report("orders", RelayReport(delivered=1))
    text = metrics.render().decode()
    assert 'events_published_total{module="orders"} 1.0' in text.splitlines()
    assert "events_relay_lag_seconds{" not in text


def test_status_ages_are_short_and_readable() -> None:
    from ecommerce.cli import age

    assert [age(None), age(0.4), age(59.9), age(185), age(2 * 3600 + 7 * 60 + 5), age(3 * 86400 + 4 * 3600)] == [
        "-", "0s", "59s", "3m05s", "2h07m", "3d04h"]
