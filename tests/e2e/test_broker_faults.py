"""Fault drills on the RabbitMQ transport, with real processes and the real broker (issue 15).

Each drill runs ``ecommerce serve`` (and, where the drill needs one, ``ecommerce events consume`` or
``ecommerce events relay``) on PostgreSQL with events over RabbitMQ, in a namespace of its own, puts a
load of checkouts and payments through HTTP, does one thing that breaks delivery, and then checks the
books (:func:`problems`):

- every event's effect exactly once: each (event, handler) pair that the outboxes imply is in the
  handler module's inbox exactly once, none missing, none extra; the test-only ``tally`` module
  (``tests/support/tally_module``), whose handlers are *not* idempotent, has exactly one row per pair —
  the one check that fails if the inbox let a redelivered message through;
- the domain's effects: every order paid, once (one ``paid`` transition); one order-placed, one
  payment and one welcome notification per event; the recommendations count each order once; the
  catalog committed the units once and holds nothing; the search index shows the stock left;
- nothing left behind: every outbox row delivered (none parked), and once the processes are stopped,
  every queue of the namespace — main, retry, dead letters — empty (ready *and* unacked, per
  ``rabbitmqctl``).

The faults: the broker closes the connection (``rabbitmqctl close_connection``, only this drill's
process: the broker is shared) under the relay and under a consumer while orders flow; a consumer
SIGKILLed between its inbox commit and its acks; the relay SIGKILLed between the broker's confirm and
marking the rows. The two kills first show that the process really died inside the window (the messages
of committed events still queued; confirmed events still unmarked), so the drill cannot pass vacuously.
"""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecommerce.kernel import faults
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from tests.conftest import EXTRA_MODULES
from tests.support import databases, rabbitmq, tally_module
from tests.support.catalog import stocked
from tests.support.orders import shopper
from tests.support.polling import eventually
from tests.support.processes import cli_env, cli_process, plugin_env, server_process

#: Drills that run whole servers on PostgreSQL share one xdist worker: two at once can exhaust the
#: server's 100 connections (each server keeps a pool per module and thread), and then a request fails.
#: ``-m 'not rabbitmq'`` leaves the drills out.
pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.xdist_group("postgres-servers")]
STOCK = 1000
SHOPPERS = 24
PRODUCTS = 3
PASSWORD = "shopping-password-1"  # tests.support.orders.shopper's
CARD = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2035, "cvc": "7391",
        "holder_name": "Ada Lovelace"}
SETTLE_SECONDS = 60
CONSUMING = "consuming"  # what ``ecommerce events consume`` prints once its consumers are registered


@dataclass
class Drill:
    """One drill's shop: the environment of its processes and a kernel on the same database and broker."""

    tmp_path: Path
    env: dict[str, str]
    kernel: Kernel
    namespace: str
    broker_url: str
    products: list[int]
    shoppers: list[tuple[int, int, str]]  # (user id, address id, email)
    #: order id -> (product id, quantity) of every order placed over HTTP
    orders: dict[int, tuple[int, int]] = field(default_factory=dict)

    def with_env(self, **extra: str) -> dict[str, str]:
        return {**self.env, **extra}


@pytest.fixture
def drill(tmp_path: Path, postgres_url: str, rabbitmq_url: str, broker_namespace: str) -> Iterator[Drill]:
    databases.reset_schemas(postgres_url, [*discover(), *EXTRA_MODULES])
    env = cli_env(
        tmp_path,
        ECOMMERCE_DATABASE_URL=postgres_url,
        ECOMMERCE_EVENT_BROKER_URL=rabbitmq_url,
        ECOMMERCE_EVENT_BROKER_NAMESPACE=broker_namespace,
        ECOMMERCE_EVENT_RETRY_BASE="0.05",
        ECOMMERCE_RELAY_INTERVAL="0.2",
        ECOMMERCE_RELAY_LEASE_SECONDS="2",  # a killed relay's claim expires quickly
        # Throttling has its own tests; here it must not turn the load into 429s.
        ECOMMERCE_RATE_LIMIT="100000/minute", ECOMMERCE_AUTH_RATE_LIMIT="100000/minute",
        ECOMMERCE_USER_RATE_LIMIT="100000/minute",
        **plugin_env(tmp_path, "ecommerce_tally", {"tally": "tests.support.tally_module:module"}),
    )
    kernel = Kernel(Settings.from_env(env), modules={**discover(), "tally": tally_module.module})
    try:
        kernel.migrate()
        products = [stocked(kernel, STOCK)[0] for _ in range(PRODUCTS)]
        shoppers = []
        for _ in range(SHOPPERS):
            user_id, address_id = shopper(kernel)
            shoppers.append((user_id, address_id, kernel.runner.call(lambda u=user_id: _email(u))))
        yield Drill(tmp_path, env, kernel, broker_namespace, rabbitmq_url, products, shoppers)
    finally:
        kernel.close()


def _email(user_id: int) -> str:
    from ecommerce.modules.users.models import User

    return str(User.get_by_id(user_id).email)


# --- the load --------------------------------------------------------------------------------------
def shop(base: str, drill: Drill, index: int) -> tuple[int, int, int]:
    """One shopper over HTTP: log in, fill the cart, check out, pay. Returns (order, product, quantity)."""
    _, address_id, email = drill.shoppers[index]
    product_id, quantity = drill.products[index % PRODUCTS], 1 + index % 2
    with httpx.Client(base_url=base, timeout=30) as c:
        found = c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert found.status_code == 200, found.text
        headers = {"Authorization": f"Bearer {found.json()['access_token']}"}
        added = c.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": quantity}, headers=headers)
        assert added.status_code in (200, 201), added.text
        placed = c.post("/api/v1/orders", json={"address_id": address_id},
                        headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert placed.status_code == 201, placed.text
        card = c.post("/api/v1/payments/tokens", json=CARD, headers=headers)
        assert card.status_code == 201, card.text
        paid = c.post("/api/v1/payments", json={"order_id": placed.json()["id"], "token_id": card.json()["id"],
                                                "cvc": CARD["cvc"]},
                      headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        assert paid.status_code == 201 and paid.json()["status"] == "succeeded", paid.text
        return int(placed.json()["id"]), product_id, quantity


@dataclass
class Load:
    """Every shopper under way, four at a time."""

    pool: ThreadPoolExecutor
    shoppers: list[Future[tuple[int, int, int]]]

    def running(self) -> bool:
        return not all(future.done() for future in self.shoppers)


def load(base: str, drill: Drill) -> Load:
    pool = ThreadPoolExecutor(4)
    return Load(pool, [pool.submit(shop, base, drill, i) for i in range(SHOPPERS)])


def finish(running: Load, drill: Drill) -> None:
    """Wait for every shopper; their orders go into ``drill.orders``."""
    for future in running.shoppers:
        order_id, product_id, quantity = future.result(timeout=120)
        drill.orders[order_id] = (product_id, quantity)
    running.pool.shutdown()


def close_while_loading(running: Load, namespace: str, pid: int, at_least: int = 3) -> int:
    """Close the process's broker connections again and again while the load runs (at least ``at_least``
    times, however short the load): each closure lands while events are being published or consumed."""
    closed = 0
    deadline = time.monotonic() + 60
    while closed < at_least or running.running():
        assert time.monotonic() < deadline, f"only {closed} connection(s) closed in 60 s"
        closed += rabbitmq.close_connections(namespace, pid)
        time.sleep(0.3)  # the client reconnects after about a second
    return closed


# --- the books -------------------------------------------------------------------------------------
def problems(drill: Drill) -> list[str]:
    """Every broken promise, read from the modules' tables (empty when each event took effect once)."""
    found: list[str] = drill.kernel.runner.call(_problems, drill)
    return found


def _problems(drill: Drill) -> list[str]:
    from ecommerce.modules.catalog.models import Inventory
    from ecommerce.modules.notifications.models import NotificationDocument
    from ecommerce.modules.orders.models import Order
    from ecommerce.modules.recommendations.models import OrderFacts, Sales
    from ecommerce.modules.search.models import SearchDocument

    found: list[str] = []
    registry = drill.kernel.registry
    events: list[tuple[str, str, dict[str, Any]]] = []  # (event id, key, payload) of every outbox
    for module in registry:
        Outbox = module.events.Outbox
        rows = list(Outbox.select(Outbox.event_id, Outbox.name, Outbox.payload, Outbox.delivered_at,
                                  Outbox.failed_at))
        undelivered = [r.name for r in rows if r.delivered_at is None or r.failed_at is not None]
        if undelivered:
            found.append(f"{module.name} outbox: {len(undelivered)} not delivered ({Counter(undelivered)})")
        events.extend((r.event_id, r.name, json.loads(r.payload)) for r in rows)

    # Exactly once per (event, handler): the inbox of every consuming module, and the tally's own rows.
    for module in registry:
        expected = Counter((event_id, sub.handler_name) for sub in module.subscriptions
                           for event_id, key, _ in events if key == sub.event.key())
        Inbox = module.events.Inbox
        inbox = Counter(Inbox.select(Inbox.event_id, Inbox.handler).tuples())
        found.extend(_compare(f"{module.name} inbox", expected, inbox))
        if module.name == "tally":
            entries = tally_module.TallyEntry
            found.extend(_compare("tally rows", expected, Counter(entries.select(entries.event_id,
                                                                                  entries.handler).tuples())))

    # The domain: each order paid once, told once, counted once; the stock committed once.
    orders = dict(Order.select(Order.id, Order.order_status).tuples())
    if orders != {order_id: "paid" for order_id in drill.orders}:
        found.append(f"orders: {Counter(orders.values())} for {len(drill.orders)} paid over HTTP")
    paid = Counter(p["order_id"] for _, key, p in events
                   if key == "orders.OrderStatusChanged.v1" and p["to_status"] == "paid")
    if paid != Counter(list(drill.orders)):
        found.append(f"paid transitions per order: {sorted(paid.values())}")
    told = Counter((doc["event_id"], doc["template"]) for doc in
                   (json.loads(c) for (c,) in NotificationDocument.select(NotificationDocument.content).tuples()))
    wanted = Counter((event_id, template) for event_id, key, _ in events
                     for template in [{"users.UserRegistered.v1": "welcome", "orders.OrderPlaced.v1": "order_placed",
                                       "payments.PaymentSucceeded.v1": "payment_succeeded"}.get(key)] if template)
    found.extend(_compare("notifications", wanted, told))
    counted = set(OrderFacts.select(OrderFacts.order_id)
                  .where(OrderFacts.placed & OrderFacts.paid & OrderFacts.counted & ~OrderFacts.void).tuples())
    if counted != {(order_id,) for order_id in drill.orders}:
        found.append(f"recommendations: {len(counted)} orders counted of {len(drill.orders)}")
    units = Counter[int]()
    per_product = Counter[int]()
    for product_id, quantity in drill.orders.values():
        units[product_id] += quantity
        per_product[product_id] += 1
    sales = {p: (o, u) for p, o, u in Sales.select(Sales.product_id, Sales.orders, Sales.units).tuples()}
    if sales != {p: (per_product[p], units[p]) for p in per_product}:
        found.append(f"recommendations sales {sales} != {dict(per_product)} orders, {dict(units)} units")
    stock = {p: (q, r) for p, q, r in Inventory.select(Inventory.product, Inventory.quantity, Inventory.reserved)
             .where(Inventory.product.in_(drill.products)).tuples()}
    if stock != {p: (STOCK - units[p], 0) for p in drill.products}:
        found.append(f"catalog stock (on hand, reserved) {stock}")
    indexed = dict(SearchDocument.select(SearchDocument.product_id, SearchDocument.available)
                   .where(SearchDocument.product_id.in_(drill.products)).tuples())
    if indexed != {p: STOCK - units[p] for p in drill.products}:
        found.append(f"search index availability {indexed}")
    return found


def _compare(what: str, expected: Counter[Any], actual: Counter[Any]) -> list[str]:
    missing = expected - actual
    extra = actual - expected
    twice = {pair: n for pair, n in actual.items() if n > 1}
    if not (missing or extra or twice):
        return []
    return [f"{what}: {sum(missing.values())} missing {_sample(missing)}, {sum(extra.values())} extra "
            f"{_sample(extra)}, {len(twice)} more than once {_sample(Counter(twice))}"]


def _sample(counter: Counter[Any]) -> list[Any]:
    return sorted(counter)[:3]


def queue_problems(drill: Drill) -> list[str]:
    left = {name: n for name, n in rabbitmq.queue_messages(drill.namespace).items() if n}
    return [f"messages left in the broker: {left}"] if left else []


def settle(drill: Drill) -> list[str]:
    """Wait until the books balance and the queues are empty (or give up); what is still wrong."""
    def balanced() -> bool:
        assert problems(drill) == [] and queue_problems(drill) == []
        return True

    try:
        eventually(balanced, SETTLE_SECONDS, interval=0.5)
    except AssertionError:
        return problems(drill) or queue_problems(drill)
    return []


def final_check(drill: Drill) -> None:
    """After every process of the drill has stopped: the books, and nothing left in any queue (a message
    taken and not acked would be back in its queue now)."""
    assert len(drill.orders) == SHOPPERS
    assert problems(drill) == []
    assert queue_problems(drill) == []


def server(drill: Drill, **extra: str) -> Any:
    return server_process(drill.tmp_path, drill.with_env(**extra), stop=signal.SIGTERM)


def consumer(drill: Drill, name: str, *modules: str, **extra: str) -> Any:
    """``ecommerce events consume`` (of ``modules``, or all), output in ``<name>.log``."""
    only = [arg for module in modules for arg in ("--module", module)]
    return cli_process(drill.tmp_path, drill.with_env(**extra), "events", "consume", *only, ready=CONSUMING,
                       log=drill.tmp_path / f"{name}.log")


# --- the drills ------------------------------------------------------------------------------------
def test_the_broker_closes_the_connection_under_the_relay_while_orders_flow(drill: Drill) -> None:
    """The server relays (and consumes) in its worker; the broker closes that worker's connection again and
    again during the load. Publishes in flight fail or lose their confirm (the rows are retried: a
    duplicate at worst), unacked deliveries come back; the robust connection reconnects by itself."""
    with server(drill) as (proc, base):
        running = load(base, drill)
        closed = close_while_loading(running, drill.namespace, proc.pid)
        finish(running, drill)
        assert closed >= 3
        assert settle(drill) == []
    final_check(drill)


def test_the_broker_closes_the_connection_under_a_consumer_while_orders_flow(drill: Drill) -> None:
    """The server only serves (no relay, no consumers); a separate ``ecommerce events consume`` process
    relays and consumes, and the broker closes *its* connection again and again during the load."""
    with server(drill, ECOMMERCE_RUN_RELAY="false") as (_, base), consumer(drill, "consume") as worker:
        assert worker.poll() is None, (drill.tmp_path / "consume.log").read_text()
        running = load(base, drill)
        closed = close_while_loading(running, drill.namespace, worker.pid)
        finish(running, drill)
        assert closed >= 3
        assert settle(drill) == [], (drill.tmp_path / "consume.log").read_text()[-3000:]
    final_check(drill)


def test_a_consumer_killed_between_its_commit_and_its_acks_loses_and_repeats_nothing(drill: Drill) -> None:
    """The orders are placed and paid first; then a consumer process dies by SIGKILL right after its inbox
    committed a batch, before any ack. The broker requeues those messages (proved below: some of them are
    events already in the inbox); the restarted consumer gets them again and the inbox drops them.

    The crashing process consumes the tally's queue only, so the batch that committed is one whose second
    run would show (every event reaches the tally; its rows are not idempotent)."""
    with server(drill, ECOMMERCE_RUN_RELAY="false") as (_, base):
        finish(load(base, drill), drill)
        with consumer(drill, "crashing", "tally", **{faults.ENV: "consumer.after_commit"}) as crashing:
            assert crashing.wait(timeout=60) == -signal.SIGKILL, (drill.tmp_path / "crashing.log").read_text()
        assert committed_but_queued(drill), "the consumer did not die between its commit and its acks"
        with consumer(drill, "restarted"):
            assert settle(drill) == [], (drill.tmp_path / "restarted.log").read_text()[-3000:]
    final_check(drill)


def test_a_relay_killed_between_the_confirm_and_the_mark_loses_and_repeats_nothing(drill: Drill) -> None:
    """The orders are placed and paid first; then ``ecommerce events relay`` dies by SIGKILL right after
    the broker confirmed its first batch, before marking the rows. Those events are in the queues *and*
    still due in the outbox (proved below); once the claim expires the restarted relay publishes them a
    second time, and the consumers' inboxes take each effect once."""
    with server(drill, ECOMMERCE_RUN_RELAY="false") as (_, base):
        finish(load(base, drill), drill)
        with cli_process(drill.tmp_path, drill.with_env(**{faults.ENV: "relay.after_publish"}), "events", "relay",
                         log=drill.tmp_path / "crashing.log") as crashing:
            assert crashing.wait(timeout=60) == -signal.SIGKILL, (drill.tmp_path / "crashing.log").read_text()
        assert published_but_unmarked(drill), "the relay did not die between the confirm and the mark"
        with consumer(drill, "restarted"):
            assert settle(drill) == [], (drill.tmp_path / "restarted.log").read_text()[-3000:]
    final_check(drill)


def queued(drill: Drill) -> dict[str, set[str]]:
    """Per consuming module, the event ids of the messages in its queue now (nothing consumes them)."""
    topology = {m.name: f"{drill.namespace}.{m.name}" for m in drill.kernel.registry if m.subscriptions}
    found = rabbitmq.peek(drill.broker_url, topology.values())
    return {module: set(found[queue]) for module, queue in topology.items()}


def committed_but_queued(drill: Drill) -> bool:
    """Whether a message still in some module's queue is an event that module's inbox already holds."""
    waiting = queued(drill)

    def overlap() -> bool:
        for module in drill.kernel.registry:
            Inbox = module.events.Inbox
            if waiting.get(module.name) and Inbox.select().where(Inbox.event_id.in_(waiting[module.name])).exists():
                return True
        return False

    return bool(drill.kernel.runner.call(overlap))


def published_but_unmarked(drill: Drill) -> bool:
    """Whether an event in the queues is still undelivered in its outbox (claimed, not marked)."""
    waiting = set().union(*queued(drill).values())

    def overlap() -> bool:
        for module in drill.kernel.registry:
            Outbox = module.events.Outbox
            if Outbox.select().where(Outbox.event_id.in_(waiting) & Outbox.delivered_at.is_null()
                                     & Outbox.claimed_until.is_null(False)).exists():
                return True
        return False

    return bool(waiting) and bool(drill.kernel.runner.call(overlap))
