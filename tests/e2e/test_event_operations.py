"""Operating the events (issue 15, item 3) from the outside: ``/metrics`` after a checkout, ``/readyz``
with and without a broker, ``ecommerce events status`` and ``replay-dead`` as real processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from ecommerce.modules.users import accounts as users_accounts
from tests.conftest import test_settings as settings_for
from tests.support import audit_module
from tests.support.audit_module import Behaviour
from tests.support.catalog import stocked
from tests.support.live_server import LiveServer
from tests.support.orders import ADDRESS
from tests.support.polling import eventually
from tests.support.processes import cli_env, free_port
from tests.support.shop import Shop

SECRET = "cli-secret-" + "y" * 40


def events_scraped(client: httpx.Client) -> dict[tuple[str, str], float]:
    """The ``events_*`` samples of ``/metrics``, by (sample name, module)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, sample.labels["module"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("events_")
    }


def moved(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float], name: str, module: str) -> float:
    return after.get((name, module), 0.0) - before.get((name, module), 0.0)


def test_a_checkout_moves_the_event_metrics(shop: Shop) -> None:
    product_id, _ = stocked(shop.kernel, 5, price=700)
    _, tokens = shop.account()
    headers = shop.headers(tokens)
    address = shop.client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=headers).json()
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 2}, headers=headers)
    shop.kernel.relay_until_idle()  # the set-up's events out of the way
    before = events_scraped(shop.client)

    placed = shop.client.post("/api/v1/orders", json={"address_id": address["id"]},
                              headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 201, placed.text
    waiting = events_scraped(shop.client)
    assert waiting[("events_relay_lag_seconds", "orders")] > 0  # OrderPlaced is due, not yet relayed
    assert moved(before, waiting, "events_published_total", "orders") == 0

    shop.kernel.relay_until_idle()
    after = events_scraped(shop.client)
    assert moved(before, after, "events_published_total", "orders") >= 1
    for consumer in ("notifications", "recommendations"):  # both consume orders.OrderPlaced
        assert moved(before, after, "events_consumed_total", consumer) >= 1, consumer
    assert after[("events_relay_lag_seconds", "orders")] == 0
    assert all(after.get(("events_dead_total", m), 0) == 0 for m in discover())
    text = shop.client.get("/metrics").text  # one page: the HTTP metrics are still there
    assert 'http_requests_total{method="POST",route="/api/v1/orders",status="201"}' in text


def test_the_apps_own_relay_and_consumers_feed_the_metrics(shop_factory: Any) -> None:
    """No test-driven relay: the app's background relay (and, with a broker, its push consumers)."""
    shop: Shop = shop_factory(run_relay=True, relay_interval=0.2)
    product_id, _ = stocked(shop.kernel, 5, price=700)
    _, tokens = shop.account()
    headers = shop.headers(tokens)
    address = shop.client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=headers).json()
    shop.client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers)
    placed = shop.client.post("/api/v1/orders", json={"address_id": address["id"]},
                              headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert placed.status_code == 201, placed.text
    def published_and_consumed() -> dict[tuple[str, str], float]:
        scraped = events_scraped(shop.client)
        assert scraped.get(("events_published_total", "orders"), 0) >= 1, scraped
        assert scraped.get(("events_consumed_total", "recommendations"), 0) >= 1, scraped
        return scraped

    scraped = eventually(published_and_consumed, timeout=30, interval=0.1)
    assert scraped.get(("events_consumed_total", "notifications"), 0) >= 2  # the registration too


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_readyz_reports_an_unreachable_broker_and_stays_ready(app_factory: Any) -> None:
    app = app_factory(event_broker_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    server = LiveServer(app).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["status"] == "ok" and ready.json()["broker"] == "unavailable"
            # The API still works; its events wait in the outbox, retried (never parked) meanwhile.
            client.post("/api/v1/auth/register", json={"email": "during-outage@example.com",
                                                       "password": "long-enough-password"}).raise_for_status()
            kernel: Kernel = app.ctx.kernel  # type: ignore[attr-defined]
            report = kernel.relay_once()
            assert (report.delivered, report.retried, report.failed) == (0, 1, 0)
            assert {s.module: s for s in kernel.outbox_state()}["users"].pending == 1
            scraped = events_scraped(client)
            assert scraped[("events_retried_total", "users")] == 1
            assert ("events_published_total", "users") not in scraped
    finally:
        server.stop()


# --- the command, as an operator runs it --------------------------------------------------------------


def run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecommerce", *args],
        cwd=tmp_path, env=cli_env(tmp_path, ECOMMERCE_SECRET_KEY=SECRET, **extra),
        capture_output=True, text=True, timeout=120,
    )


def table(output: str) -> dict[str, list[str]]:
    """Rows of the first table ``events status`` prints, by module."""
    rows: dict[str, list[str]] = {}
    for line in output.split("\n\n")[0].splitlines()[1:]:
        rows[line.split()[0]] = line.split()[1:]
    return rows


def queues(output: str) -> dict[str, list[int]]:
    """The broker's table: module -> [ready, retrying, dead]."""
    lines = output.split("\n\n")[1].splitlines()
    assert lines[0].startswith("broker amqp://guest:***@"), lines[0]
    return {line.split()[0]: [int(n) for n in line.split()[1:]] for line in lines[2:]}


def parked_event(settings: Settings) -> None:
    """A users event parked after its last attempt: the test-only audit consumer fails on it."""
    Behaviour.failures_left = 10
    kernel = Kernel(settings.replace(relay_max_attempts=1), modules={**discover(), "audit": audit_module.module})
    try:
        kernel.migrate()
        kernel.runner.call(users_accounts.register, "parked@example.com", "long-enough-password")
        assert kernel.relay_once().failed == 1
    finally:
        Behaviour.failures_left = 0
        kernel.close()


def test_status_and_replay_dead_in_process(tmp_path: Path) -> None:
    parked_event(settings_for(tmp_path / "data", secret_key=SECRET))
    status = run(tmp_path, "events", "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[0].split() == ["module", "pending", "failed", "delivered", "oldest", "pending"]
    assert table(status.stdout)["users"] == ["0", "1", "0", "-"]
    assert "broker" not in status.stdout

    unknown = run(tmp_path, "events", "replay-dead", "--module", "nope")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines() == [unknown.stderr.strip()] and "no module named nope" in unknown.stderr

    replayed = run(tmp_path, "events", "replay-dead", "--module", "users")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == "users: 1 parked event(s) due again\n"
    pending = table(run(tmp_path, "events", "status").stdout)["users"]
    assert pending[:3] == ["1", "0", "0"] and pending[3].endswith("s")  # its age: "3s", "1m02s" ...

    assert "delivered 1," in run(tmp_path, "events", "relay").stdout  # the real consumers take it this time
    assert table(run(tmp_path, "events", "status").stdout)["users"] == ["0", "0", "1", "-"]
    again = run(tmp_path, "events", "replay-dead")
    assert again.returncode == 0 and "users: 0 parked event(s) due again" in again.stdout


def test_status_and_replay_dead_with_a_broker(tmp_path: Path, rabbitmq_url: str, broker_namespace: str) -> None:
    broker = {"ECOMMERCE_EVENT_BROKER_URL": rabbitmq_url, "ECOMMERCE_EVENT_BROKER_NAMESPACE": broker_namespace,
              "ECOMMERCE_EVENT_RETRY_BASE": "0.05"}
    assert run(tmp_path, "migrate").returncode == 0
    first = run(tmp_path, "events", "status", **broker)  # also declares the queues
    assert first.returncode == 0, first.stderr
    consumers = sorted(name for name, module in discover().items() if module.subscriptions)
    assert queues(first.stdout) == {name: [0, 0, 0] for name in consumers}

    # A message no consumer can read is dead-lettered at once by the next consuming pass.
    queue = f"{broker_namespace}.notifications"

    async def poison() -> None:
        connection = await aio_pika.connect(rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            await channel.default_exchange.publish(aio_pika.Message(b"not an envelope"), routing_key=queue)

    asyncio.run(poison())
    assert queues(run(tmp_path, "events", "status", **broker).stdout)["notifications"] == [1, 0, 0]
    relay = run(tmp_path, "events", "relay", **broker)
    assert relay.returncode == 0 and "failed 1" in relay.stdout, relay.stdout + relay.stderr
    assert queues(run(tmp_path, "events", "status", **broker).stdout)["notifications"] == [0, 0, 1]

    replayed = run(tmp_path, "events", "replay-dead", "--module", "notifications", **broker)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == f"notifications: 0 parked event(s) due again, 1 dead letter(s) back in {queue}\n"
    assert queues(run(tmp_path, "events", "status", **broker).stdout)["notifications"] == [1, 0, 0]


def test_an_unreachable_broker_is_one_line(tmp_path: Path) -> None:
    closed = {"ECOMMERCE_EVENT_BROKER_URL": f"amqp://guest:secret@127.0.0.1:{free_port()}/"}
    assert run(tmp_path, "migrate").returncode == 0
    status = run(tmp_path, "events", "status", **closed)
    assert status.returncode == 0, status.stderr
    assert "users" in table(status.stdout)
    [line] = status.stdout.split("\n\n")[1].splitlines()
    assert line.startswith("broker unavailable (amqp://guest:***@127.0.0.1:") and "secret" not in line
    replay = run(tmp_path, "events", "replay-dead", **closed)
    assert replay.returncode == 1 and replay.stdout == ""
    # Our line comes last (aiormq may log its own connection warning before it); no traceback.
    assert replay.stderr.strip().splitlines()[-1].startswith("ecommerce: nothing replayed, RabbitMQ at amqp://guest:***@")
    assert "Traceback" not in replay.stderr and "secret" not in replay.stderr
