"""Notifications end to end: real HTTP, a real SMTP server (aiosmtpd), real Redis, every database layout.

The promise under test: each event gives its recipient exactly one notification and one email, even
when the event is delivered twice — straight into the handlers (as after a crash between a handler and
its inbox record) and through the relay again.
"""

from __future__ import annotations

import datetime
import email
import json
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.events import Envelope
from ecommerce.kernel.pagination import encode_cursor
from ecommerce.modules.notifications import delivery
from ecommerce.modules.notifications import settings as notification_settings
from tests.security.test_hardening import self_signed
from tests.support.api import assert_problem, register
from tests.support.catalog import stocked
from tests.support.orders import ADDRESS
from tests.support.polling import eventually
from tests.support.processes import cli_env, free_port, serving
from tests.support.services import isolated_namespace, require_redis
from tests.support.shop import Shop
from tests.support.smtp import MailServer, running_mail_server

#: Events cross modules here: these tests also run with the RabbitMQ transport.
pytestmark = pytest.mark.events

FEED = "/api/v1/notifications"
CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}


class Customer:
    """A registered customer who can check out and pay, over HTTP."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.user, tokens = shop.account()
        self.email: str = self.user["email"]
        self.headers = shop.headers(tokens)

    def order(self, price: int = 2500, quantity: int = 2) -> dict[str, Any]:
        client = self.shop.client
        product_id, _ = stocked(self.shop.kernel, 10, price=price)
        address = client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=self.headers).json()
        client.post("/api/v1/cart/items", json={"product_id": product_id, "quantity": quantity}, headers=self.headers)
        response = client.post("/api/v1/orders", json={"address_id": address["id"]},
                               headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    def pay(self, order: dict[str, Any], number: str = CARD["card_number"]) -> int:
        client = self.shop.client
        card = client.post("/api/v1/payments/tokens", json={**CARD, "card_number": number}, headers=self.headers)
        body = {"order_id": order["id"], "token_id": card.json()["id"], "cvc": "123"}
        paid = client.post("/api/v1/payments", json=body, headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex})
        return paid.status_code

    def feed(self, **params: Any) -> dict[str, Any]:
        response = self.shop.client.get(FEED, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    with isolated_namespace() as namespace:
        yield namespace


def redeliver_everything(kernel: Kernel) -> None:
    """Deliver every event a second time: once straight into the notification handlers (bypassing the
    inbox, as after a crash right after the handler) and once more through the relay and the inbox."""
    subscriptions = kernel.modules["notifications"].subscriptions

    def again() -> None:
        for source in kernel.modules:
            Outbox = source.events.Outbox
            for row in Outbox.select():
                for sub in subscriptions:
                    if sub.event.key() == row.name:
                        event = sub.event.from_payload(json.loads(row.payload))
                        sub.handler(Envelope(row.event_id, source.name, row.occurred_at, event))
            Outbox.update(delivered_at=None, attempts=0).execute()

    kernel.runner.call(again)
    kernel.relay_until_idle()


def deliver(kernel: Kernel, now: datetime.datetime | None = None) -> delivery.DeliveryReport:
    return kernel.runner.call(delivery.deliver_due, now)


def paid_customer(shop: Shop) -> tuple[Customer, dict[str, Any]]:
    customer = Customer(shop)
    order = customer.order()
    assert customer.pay(order) == 201
    shop.kernel.relay_until_idle()
    return customer, order


def test_a_paid_order_notifies_once_per_event_even_when_events_arrive_twice(
        shop_factory: Any, mail_server: MailServer) -> None:
    shop: Shop = shop_factory(**mail_server.settings())
    customer, order = paid_customer(shop)
    redeliver_everything(shop.kernel)
    report = deliver(shop.kernel)
    assert (report.sent, report.failed) == (3, 0), report.errors
    redeliver_everything(shop.kernel)  # after sending, too: no second email
    assert deliver(shop.kernel).sent == 0

    received = mail_server.to(customer.email)
    subjects = sorted(str(m["Subject"]) for m in received)
    assert subjects == sorted([f"Welcome to the shop, {customer.email}", f"Order #{order['id']} received",
                               f"Payment received for order #{order['id']}"])
    placed = next(m for m in received if "received" in str(m["Subject"]) and "Payment" not in str(m["Subject"]))
    assert "50.00 USD" in placed.get_content() and "(2 item(s))" in placed.get_content()

    feed = customer.feed()
    assert [item["template"] for item in feed["items"]] == ["payment_succeeded", "order_placed", "welcome"]
    assert feed["unread"] == 3 and feed["next_cursor"] is None
    assert {item["status"] for item in feed["items"]} == {"sent"}
    assert all(item["sent_at"] and not item["read"] for item in feed["items"])
    ids = {str(m["X-Notification-Id"]) for m in received}
    assert ids == {item["id"] for item in feed["items"]}


def test_with_redis_the_documents_live_in_redis(shop_factory: Any, mail_server: MailServer,
                                                redis_namespace: str) -> None:
    namespace = redis_namespace
    shop: Shop = shop_factory(redis_url=require_redis(), rate_limit_namespace=namespace, **mail_server.settings())
    customer, order = paid_customer(shop)
    redeliver_everything(shop.kernel)
    assert deliver(shop.kernel).sent == 3
    assert len(mail_server.to(customer.email)) == 3

    r = redis.Redis.from_url(require_redis(), decode_responses=True)
    feed_key = f"{namespace}:notifications:feed:{customer.user['id']}"
    ids = r.zrevrange(feed_key, 0, -1)
    assert len(ids) == 3
    documents = [r.hgetall(f"{namespace}:notifications:doc:{i}") for i in ids]
    assert [d["template"] for d in documents] == ["payment_succeeded", "order_placed", "welcome"]
    assert {d["status"] for d in documents} == {"sent"}
    assert {d["recipient_email"] for d in documents} == {customer.email}
    assert documents[1]["subject"] == f"Order #{order['id']} received"
    retention = shop.kernel.module_settings["notifications"].retention
    assert all(0 < r.ttl(f"{namespace}:notifications:doc:{i}") <= retention for i in ids)
    assert r.zcard(f"{namespace}:notifications:due") == 0
    # and the HTTP feed reads the same documents
    assert [item["id"] for item in customer.feed()["items"]] == ids


def test_every_order_and_payment_outcome_is_told(shop: Shop) -> None:
    """Declined, cancelled (with a refund), expired and shipped: each renders its own template."""
    from ecommerce.modules.orders import transitions

    customer = Customer(shop)
    declined, cancelled, expired, shipped = (customer.order(quantity=1) for _ in range(4))
    assert customer.pay(declined, "4000000000000002") == 402
    assert customer.pay(cancelled) == 201 and customer.pay(shipped) == 201
    shop.kernel.relay_until_idle()
    response = shop.client.post(f"/api/v1/orders/{cancelled['id']}/cancel", headers=customer.headers)
    assert response.status_code == 200, response.text
    assert shop.kernel.runner.call(transitions.expire_due, utcnow() + datetime.timedelta(days=1)) == 2
    for target in ("fulfilled", "shipped"):
        shop.kernel.runner.call(transitions.admin_transition, shipped["id"], target)
    shop.kernel.relay_until_idle()
    told = {(item["template"], item["subject"]) for item in customer.feed(limit=50)["items"]}
    assert {
        ("payment_failed", f"Payment for order #{declined['id']} did not go through"),
        ("order_expired", f"Order #{declined['id']} expired unpaid"),
        ("order_cancelled", f"Order #{cancelled['id']} cancelled"),
        ("order_expired", f"Order #{expired['id']} expired unpaid"),
        ("order_shipped", f"Order #{shipped['id']} is on its way"),
    } <= told
    bodies = {item["template"]: item["body"] for item in customer.feed(limit=50)["items"]}
    assert "(card declined)" in bodies["payment_failed"]
    assert "The payment will be refunded to your card." in bodies["order_cancelled"]
    # welcome, 4 placed, 3 payment outcomes, cancelled, 2 expired, shipped: nothing for paid or fulfilled
    assert len(customer.feed(limit=50)["items"]) == 1 + 4 + 3 + 1 + 2 + 1


def test_smtp_failures_retry_with_backoff_then_fail_for_good(shop_factory: Any, mail_server: MailServer) -> None:
    shop: Shop = shop_factory(**mail_server.settings(max_attempts=3, retry_base=10.0))
    customer = Customer(shop)
    shop.kernel.relay_until_idle()
    mail_server.refuse = 100
    t0 = utcnow()
    assert deliver(shop.kernel, t0).retried == 1
    assert deliver(shop.kernel, t0 + datetime.timedelta(seconds=9)).retried == 0  # first backoff: 10 s
    assert deliver(shop.kernel, t0 + datetime.timedelta(seconds=10)).retried == 1
    assert deliver(shop.kernel, t0 + datetime.timedelta(seconds=29)).retried == 0  # second backoff: 20 s
    last = deliver(shop.kernel, t0 + datetime.timedelta(seconds=30))
    assert (last.retried, last.failed) == (0, 1) and "451" in last.errors[0]
    assert deliver(shop.kernel, t0 + datetime.timedelta(days=1)).failed == 0  # failed is final
    [item] = customer.feed()["items"]
    assert item["status"] == "failed"  # kept and visible, never lost
    stored = shop.kernel.runner.call(notification_settings.get().store.get, item["id"])
    assert stored is not None and stored.attempts == 3 and "451" in (stored.last_error or "")
    assert mail_server.to(customer.email) == []


def test_starttls_refuses_a_server_whose_certificate_is_not_trusted(shop_factory: Any, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    with running_mail_server(tls) as server:
        shop: Shop = shop_factory(**server.settings(smtp_starttls=True))
        customer = Customer(shop)
        shop.kernel.relay_until_idle()
        report = deliver(shop.kernel)
        assert (report.sent, report.retried) == (0, 1)
        assert "CERTIFICATE_VERIFY_FAILED" in report.errors[0]  # no email to a server we cannot verify
        assert server.to(customer.email) == []


def test_racing_workers_send_each_email_once(shop_factory: Any, mail_server: MailServer) -> None:
    shop: Shop = shop_factory(**mail_server.settings())
    customers = [Customer(shop) for _ in range(8)]
    shop.kernel.relay_until_idle()
    start = threading.Barrier(4)
    reports: list[delivery.DeliveryReport] = []

    def worker() -> None:
        start.wait()
        reports.append(deliver(shop.kernel))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 8 and not any(r.errors for r in reports)
    assert [len(mail_server.to(c.email)) for c in customers] == [1] * 8


def test_a_mail_server_that_recovers_gets_the_email_on_retry(shop_factory: Any, mail_server: MailServer) -> None:
    shop: Shop = shop_factory(**mail_server.settings(retry_base=5.0))
    customer = Customer(shop)
    shop.kernel.relay_until_idle()
    mail_server.refuse = 1
    t0 = utcnow()
    assert deliver(shop.kernel, t0).retried == 1
    assert deliver(shop.kernel, t0 + datetime.timedelta(seconds=5)).sent == 1
    assert len(mail_server.to(customer.email)) == 1
    assert customer.feed()["items"][0]["status"] == "sent"


def test_without_smtp_emails_land_in_the_mailbox_folder(shop: Shop) -> None:
    customer = Customer(shop)
    order = customer.order()
    shop.kernel.relay_until_idle()
    assert deliver(shop.kernel).sent == 2
    folder = shop.kernel.settings.data_dir / "mailbox"
    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary files left behind
    messages = [email.message_from_bytes(f.read_bytes(), policy=default) for f in files]
    assert {str(m["To"]) for m in messages} == {customer.email}
    assert {str(m["Subject"]) for m in messages} == {f"Welcome to the shop, {customer.email}",
                                                     f"Order #{order['id']} received"}
    assert {f.stem for f in files} == {item["id"] for item in customer.feed()["items"]}


def test_read_marks_one_of_mine_and_someone_elses_is_404(shop: Shop) -> None:
    alice, bob = Customer(shop), Customer(shop)
    shop.kernel.relay_until_idle()
    [mine] = alice.feed()["items"]
    [bobs] = bob.feed()["items"]
    stolen = shop.client.post(f"{FEED}/{bobs['id']}/read", headers=alice.headers)
    assert_problem(stolen, 404)
    assert bob.feed()["unread"] == 1
    read = shop.client.post(f"{FEED}/{mine['id']}/read", headers=alice.headers)
    assert read.status_code == 200, read.text
    assert read.json()["read"] is True and read.json()["read_at"]
    assert read.headers["cache-control"] == "no-store"
    again = shop.client.post(f"{FEED}/{mine['id']}/read", headers=alice.headers)
    assert again.json()["read_at"] == read.json()["read_at"]
    assert alice.feed()["unread"] == 0 and alice.feed()["items"][0]["read"] is True


def test_the_feed_pages_newest_first_with_a_cursor(shop: Shop) -> None:
    customer = Customer(shop)
    orders = [customer.order(quantity=1) for _ in range(4)]
    shop.kernel.relay_until_idle()
    first = customer.feed(limit=2)
    second = customer.feed(limit=2, cursor=first["next_cursor"])
    third = customer.feed(limit=2, cursor=second["next_cursor"])
    subjects = [item["subject"] for page in (first, second, third) for item in page["items"]]
    assert subjects == [f"Order #{o['id']} received" for o in reversed(orders)] + [
        f"Welcome to the shop, {customer.email}"]
    assert third["next_cursor"] is None and first["unread"] == 5


#: Any well-formed id: fixed, because every test process must collect the same parameters (pytest-xdist).
SOME_ID = "86e4cb50-7780-4304-80a5-552a49fe206e"


@pytest.mark.parametrize("cursor", [
    "not-a-cursor", encode_cursor({"t": "yesterday", "id": SOME_ID}), encode_cursor({"t": 5}),
    encode_cursor({"t": 10**30, "id": SOME_ID}), encode_cursor({"t": 5, "id": "x"}),
    encode_cursor({"t": True, "id": SOME_ID}),
])
def test_a_bad_cursor_is_a_400(shop: Shop, cursor: str) -> None:
    customer = Customer(shop)
    assert_problem(shop.client.get(FEED, params={"cursor": cursor}, headers=customer.headers), 400, "cursor")


def test_bad_ids_and_no_token(shop: Shop) -> None:
    customer = Customer(shop)
    # The route matches canonical UUIDs only (issue 14: published as format uuid): anything else is no such page.
    assert_problem(shop.client.post(f"{FEED}/not-a-uuid/read", headers=customer.headers), 404)
    assert_problem(shop.client.post(f"{FEED}/{uuid.uuid4()}/read", headers=customer.headers), 404)
    assert_problem(shop.client.get(FEED, params={"limit": "many"}, headers=customer.headers), 400, "limit")
    assert_problem(shop.client.get(FEED), 401)
    assert_problem(shop.client.post(f"{FEED}/{uuid.uuid4()}/read"), 401)


def test_the_running_app_sends_by_itself_and_the_cli_lists(tmp_path: Path, mail_server: MailServer) -> None:
    """``ecommerce serve`` as deployed: the relay and the delivery job run in the background."""
    smtp = {"ECOMMERCE_SMTP_HOST": mail_server.host, "ECOMMERCE_SMTP_PORT": str(mail_server.port),
            "ECOMMERCE_SMTP_STARTTLS": "false", "ECOMMERCE_JOB_INTERVAL": "0.2"}
    with serving(tmp_path, **smtp) as base, httpx.Client(base_url=base, timeout=10) as client:
        user = register(client)
        eventually(lambda: mail_server.to(user["email"]), timeout=30, interval=0.1, what="the welcome mail")
    [welcome] = mail_server.to(user["email"])
    assert str(welcome["Subject"]) == f"Welcome to the shop, {user['email']}"
    listed = subprocess.run(
        [sys.executable, "-m", "ecommerce", "notifications", "list", "--user", str(user["id"])],
        cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True, timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert "sent" in listed.stdout and "welcome" in listed.stdout and "1 shown, 1 unread" in listed.stdout


def test_the_cli_delivers_into_the_mailbox(tmp_path: Path) -> None:
    def ecommerce(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ecommerce", *args], input=stdin, cwd=tmp_path,
                              env=cli_env(tmp_path), capture_output=True, text=True, timeout=120)

    assert ecommerce("users", "create-admin", "ops@example.com", stdin="ops-password-9911\n").returncode == 0
    assert ecommerce("events", "relay").returncode == 0
    sent = ecommerce("notifications", "deliver")
    assert sent.returncode == 0 and sent.stdout.strip() == "sent 1, retrying later 0, failed 0", sent.stderr
    [eml] = (tmp_path / "data" / "mailbox").glob("*.eml")
    assert email.message_from_bytes(eml.read_bytes(), policy=default)["To"] == "ops@example.com"
    again = ecommerce("notifications", "deliver")
    assert again.stdout.strip() == "sent 0, retrying later 0, failed 0"


def test_redis_down_is_a_503_and_the_event_waits_for_it(shop_factory: Any) -> None:
    shop: Shop = shop_factory(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    customer = Customer(shop)
    report = shop.kernel.relay_until_idle()
    assert report.retried >= 1  # UserRegistered waits: in the outbox (in-process) or a retry queue (broker)
    if shop.kernel.consumers is None:
        assert report.delivered == 0
    assert any("notification store is unavailable" in error for error in report.errors)
    assert_problem(shop.client.get(FEED, headers=customer.headers), 503)
    assert_problem(shop.client.post(f"{FEED}/{uuid.uuid4()}/read", headers=customer.headers), 503)


def test_config_never_prints_the_smtp_password(tmp_path: Path) -> None:
    env = cli_env(tmp_path, ECOMMERCE_SMTP_HOST="mail.example.com", ECOMMERCE_SMTP_PASSWORD="hunter2-smtp-secret")
    shown = subprocess.run([sys.executable, "-m", "ecommerce", "config"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "smtp_password = (set)" in shown.stdout and "smtp_host = mail.example.com" in shown.stdout
    assert "hunter2-smtp-secret" not in shown.stdout + shown.stderr
