"""The split layout for real: nginx in front of three ``ecommerce serve --layout split --service S``
processes (core, catalog, notifications), each on its own PostgreSQL database, events over RabbitMQ, the
cross-service calls through remote facades (orders -> catalog, notifications -> users, every service's
token checks -> users).

- ``ecommerce up`` starts it all; the demo tour (register, browse, search, cart, checkout, pay,
  notifications, recommendations) and a cancel with its refund pass through the gateway; each service's
  database holds only its modules' schemas; the gateway serves the monolith's OpenAPI document and
  refuses ``/internal``; SIGTERM stops everything.
- ``ecommerce up --instances 2`` on a layout that leaves each service room for its instances (as the
  shipped one does) runs two of each: every instance answers ``/readyz``, and a checkout and its payment
  pass through the gateway, with the cross-service calls taking turns over the other service's instances.
- While the catalog service is down, checkout answers 503 problem details with Retry-After (no order,
  no 500), browsing fails fast the same way, and paying an earlier order still works; once it is back,
  checkout works again with no restart elsewhere and what happened meanwhile reaches it (the paid order's
  stock is committed, its events are applied by recommendations).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg2
import pytest

from ecommerce.demo.tour import ADDRESS, CARD
from ecommerce.gateway.supervisor import gateway_config
from ecommerce.kernel.settings import Settings
from tests.support import nginx
from tests.support.polling import eventually
from tests.support.processes import server_process
from tests.support.split import SERVICES, SplitLayout, split_layout
from tests.support.up import running_up, wait_gone

#: Waits across services and processes: a minute at most, asking every 0.2 s.
SLOW: dict[str, float] = {"timeout": 60, "interval": 0.2}

#: Drills that run whole servers on PostgreSQL share one xdist worker: two at once can exhaust the
#: server's 100 connections (each server keeps a pool per module and thread), and then a request fails.
pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.xdist_group("postgres-servers")]
T = TypeVar("T")
PASSWORD = "a long enough passphrase 1"


@pytest.fixture
def split(tmp_path: Path) -> Iterator[SplitLayout]:
    with split_layout(tmp_path) as layout:
        yield layout


def customer(gateway: httpx.Client) -> dict[str, str]:
    email = f"split-{uuid.uuid4().hex[:10]}@example.com"
    assert gateway.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    token = gateway.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def checkout(gateway: httpx.Client, headers: dict[str, str], product_id: int) -> httpx.Response:
    address = gateway.post("/api/v1/users/me/addresses", headers=headers, json=ADDRESS)
    assert address.status_code == 201, address.text
    added = gateway.post("/api/v1/cart/items", headers=headers, json={"product_id": product_id, "quantity": 1})
    assert added.status_code in (200, 201), added.text
    return gateway.post("/api/v1/orders", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                        json={"address_id": address.json()["id"]})


def pay(gateway: httpx.Client, headers: dict[str, str], order_id: int) -> None:
    card = gateway.post("/api/v1/payments/tokens", headers=headers, json=CARD)
    assert card.status_code == 201, card.text
    paid = gateway.post("/api/v1/payments", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                        json={"order_id": order_id, "token_id": card.json()["id"], "cvc": CARD["cvc"]})
    assert paid.status_code == 201, paid.text


def order(gateway: httpx.Client, headers: dict[str, str], order_id: int) -> dict[str, Any]:
    found: dict[str, Any] = gateway.get(f"/api/v1/orders/{order_id}", headers=headers).json()
    return found


def _monolith_document(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """The monolith's OpenAPI document, built in a fresh process: sanic-ext keeps its operations in
    process-wide stores, so apps earlier tests built in this worker would leak into one built here."""
    code = "import json; from ecommerce.devtools.docsite.openapi import document; print(json.dumps(document()))"
    built = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    found: dict[str, Any] = json.loads(built.stdout)
    return found


def _tags_sorted(spec: dict[str, Any]) -> dict[str, Any]:
    """The document with its tag list in name order (the order tags are first met is not part of the API)."""
    return {**spec, "tags": sorted(spec.get("tags", []), key=lambda tag: tag["name"])}


def _bought_and_paid(gateway: httpx.Client, product_id: int) -> tuple[dict[str, str], int]:
    """A new customer buys one unit of the product through the gateway and pays; returns once it is paid."""
    headers = customer(gateway)
    placed = checkout(gateway, headers, product_id)
    assert placed.status_code == 201, placed.text
    order_id = int(placed.json()["id"])
    pay(gateway, headers, order_id)
    eventually(lambda: order(gateway, headers, order_id)["order_status"] == "paid", **SLOW, what="paid")
    return headers, order_id


def test_up_runs_the_journeys_through_nginx_on_three_services(tmp_path: Path, split: SplitLayout) -> None:
    with running_up(tmp_path, split.path, split.env, ready_within=180) as shop:
        commands = list(shop.children().values())
        for service in SERVICES:
            assert any(f"--service {service} --demo" in c for c in commands), commands
        demo = subprocess.run([sys.executable, "-m", "ecommerce", "demo", "--url", shop.gateway], cwd=tmp_path,
                              env=split.env, capture_output=True, text=True, timeout=240)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        for step in ("3. Search", "POST /api/v1/orders", "order #1 is now paid", "Payment received",
                     "(bought_together)"):
            assert step in demo.stdout, demo.stdout

        with httpx.Client(base_url=shop.gateway, timeout=30) as gateway:
            product = gateway.get("/api/v1/products", params={"limit": 3}).json()["items"][2]
            headers, order_id = _bought_and_paid(gateway, product["id"])
            cancelled = gateway.post(f"/api/v1/orders/{order_id}/cancel", headers=headers)
            assert cancelled.status_code == 200, cancelled.text
            final = eventually(lambda: (o := order(gateway, headers, order_id))["payment_status"] == "refunded" and o,
                               **SLOW, what="the refund of the cancelled order")
            assert final["order_status"] == "cancelled"
            assert gateway.post("/internal/catalog/snapshot", json={"args": [[1]]}).status_code == 404
            # The same API document as the monolith's (no one service knows every route), and Swagger UI.
            monolith = _monolith_document(split.env, tmp_path)
            assert _tags_sorted(gateway.get("/docs/openapi.json").json()) == _tags_sorted(monolith)
            assert "swagger" in gateway.get("/docs").text.lower()
            # The storefront runs in core and reaches catalog, search, recommendations and notifications
            # through their remote facades: its pages answer through the gateway as in the monolith.
            home = gateway.get("/")
            assert home.status_code == 200 and product["name"].split()[0] in home.text, home.text[:500]
            page = gateway.get(f"/p/{product['id']}")
            assert page.status_code == 200 and product["name"] in page.text, page.text[:500]
            assert gateway.get(f"/p/{product['id']}/together").status_code == 200
            assert gateway.get("/find", params={"q": product["name"].split()[-1]}).status_code == 200

        children = set(shop.children())
        shop.process.send_signal(signal.SIGTERM)
        assert shop.process.wait(timeout=60) == 0
        assert wait_gone(children) == set(), "orphaned child processes"
    assert split.schemas("core") >= {"users", "orders", "payments"}
    assert not split.schemas("core") & {"catalog", "search", "recommendations", "notifications"}
    assert split.schemas("catalog") >= {"catalog", "search", "recommendations"}
    assert not split.schemas("catalog") & {"users", "orders", "payments", "notifications"}
    assert not split.schemas("notifications") & {"users", "orders", "catalog"}


def test_up_runs_two_instances_of_each_service(tmp_path: Path) -> None:
    with split_layout(tmp_path, room=2) as split, running_up(tmp_path, split.path, split.env, instances=2,
                                                              ready_within=180) as shop:
        log = "\n".join(shop.read())
        for name, service in split.layout.services.items():
            for number in (1, 2):
                assert f"[{name}#{number}]" in log, log
                address = f"http://127.0.0.1:{service.address.port + number - 1}"
                ready = httpx.get(f"{address}/readyz", timeout=10)
                assert ready.status_code == 200, (name, number, ready.text)
        with httpx.Client(base_url=shop.gateway, timeout=30) as gateway:
            product = gateway.get("/api/v1/products", params={"limit": 1}).json()["items"][0]
            _bought_and_paid(gateway, product["id"])
        commands = list(shop.children().values())
        for name in split.layout.services:
            assert any(f"--service {name} --instance 1 --demo" in c for c in commands), commands
            assert any(f"--service {name} --instance 2 --no-migrate" in c for c in commands), commands
        children = set(shop.children())
        shop.process.send_signal(signal.SIGTERM)
        assert shop.process.wait(timeout=60) == 0
        assert wait_gone(children) == set(), "orphaned child processes"


def test_checkout_answers_503_while_the_catalog_is_down_and_resumes_after(tmp_path: Path, split: SplitLayout) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(gateway_config(split.layout, Settings(), port=None, layout_source=str(split.path)))
    serve = ("--layout", str(split.path), "--service")
    port = {name: service.address.port for name, service in split.layout.services.items()}
    with server_process(tmp_path, split.env, *serve, "core", "--demo", port=port["core"]), server_process(
        tmp_path, split.env, *serve, "notifications", port=port["notifications"]
    ), nginx.running(conf, tmp_path / "nginx", split.layout.gateway.port), httpx.Client(
        base_url=f"http://127.0.0.1:{split.layout.gateway.port}", timeout=30
    ) as gateway:
        with server_process(tmp_path, split.env, *serve, "catalog", "--demo", port=port["catalog"]):
            headers = customer(gateway)
            product = gateway.get("/api/v1/products", params={"limit": 1}).json()["items"][0]
            earlier = checkout(gateway, headers, product["id"])  # placed while everything runs
            assert earlier.status_code == 201, earlier.text
            address = gateway.post("/api/v1/users/me/addresses", headers=headers, json=ADDRESS).json()
            line = {"product_id": product["id"], "quantity": 1}
            cart = gateway.post("/api/v1/cart/items", headers=headers, json=line)
            assert cart.status_code in (200, 201), cart.text

        # Paying needs only the core service: the payment and the order's move to paid happen now, their
        # events wait in RabbitMQ for the catalog service's modules (recommendations), and committing the
        # stock (a catalog facade call) is retried by the orders handler until the catalog answers.
        pay(gateway, headers, earlier.json()["id"])

        started = time.monotonic()
        down = gateway.post("/api/v1/orders", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                            json={"address_id": address["id"]})
        assert down.status_code == 503, down.text
        assert down.headers["content-type"].startswith("application/problem+json")
        assert int(down.headers["retry-after"]) > 0
        assert "catalog" in down.json()["detail"]
        assert time.monotonic() - started < 10  # a refused connection fails fast, retries included
        mine = gateway.get("/api/v1/orders", headers=headers).json()["items"]
        assert [o["id"] for o in mine] == [earlier.json()["id"]]  # no half-made order
        browse = gateway.get(f"/api/v1/products/{product['id']}")
        assert browse.status_code == 503 and "retry-after" in browse.headers

        with server_process(tmp_path, split.env, *serve, "catalog", port=port["catalog"]):
            placed = gateway.post("/api/v1/orders", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                                  json={"address_id": address["id"]})
            assert placed.status_code == 201, placed.text
            assert placed.json()["order_status"] == "pending_payment"
            newest = gateway.get("/api/v1/orders", headers=headers).json()["items"][0]
            assert newest["id"] == placed.json()["id"]
            # What happened while the catalog was down reaches it now, without a restart elsewhere.
            paid_id = earlier.json()["id"]
            eventually(lambda: order(gateway, headers, paid_id)["order_status"] == "paid", **SLOW,
                       what="the order paid while the catalog was down")
            reservation = _rows(split.urls["core"], f"SELECT reservation FROM orders.orders WHERE id = {paid_id}")[0][0]
            eventually(lambda: _rows(split.urls["catalog"], "SELECT status FROM catalog.reservations "
                                     f"WHERE reference = '{reservation}'") == [("committed",)], **SLOW,
                       what="the paid order's stock committed once the catalog answers")
            counted = f"SELECT counted FROM recommendations.recommendations_orders WHERE order_id = {paid_id}"
            eventually(lambda: _rows(split.urls["catalog"], counted) == [(True,)], **SLOW,
                       what="the order events queued meanwhile applied by recommendations")


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query)
        rows = cur.fetchall()
    conn.close()
    return rows


def test_kill_drill_sigkill_the_catalog_during_checkouts_then_check_the_books(tmp_path: Path,
                                                                           split: SplitLayout) -> None:
    """Checkouts keep coming while the catalog service is SIGKILLed and restarted. Each answer is 201 or
    503 (never 500); afterwards every order has its reservation, and once the holds of lost answers have
    expired (a short order TTL here) no stock is held without an order and none went missing."""
    env = {**split.env, "ECOMMERCE_ORDER_TTL": "20"}
    conf = tmp_path / "nginx.conf"
    conf.write_text(gateway_config(split.layout, Settings(), port=None, layout_source=str(split.path)))
    serve = ("--layout", str(split.path), "--service")
    port = {name: service.address.port for name, service in split.layout.services.items()}
    answers: list[int] = []
    with server_process(tmp_path, env, *serve, "core", "--demo", port=port["core"]), server_process(
        tmp_path, env, *serve, "notifications", port=port["notifications"]
    ), nginx.running(conf, tmp_path / "nginx", split.layout.gateway.port), httpx.Client(
        base_url=f"http://127.0.0.1:{split.layout.gateway.port}", timeout=30
    ) as gateway, server_process(tmp_path, env, *serve, "catalog", "--demo", port=port["catalog"]) as (catalog, _):
        before = _rows(split.urls["catalog"], "SELECT id, quantity FROM catalog.inventory ORDER BY id")
        headers = customer(gateway)
        product = gateway.get("/api/v1/products", params={"limit": 1}).json()["items"][0]
        address = gateway.post("/api/v1/users/me/addresses", headers=headers, json=ADDRESS).json()

        def one_checkout() -> int:
            line = {"product_id": product["id"], "quantity": 1}
            added = gateway.post("/api/v1/cart/items", headers=headers, json=line)  # the cart prices it live
            if added.status_code not in (200, 201):
                time.sleep(0.2)  # a customer facing a 503 waits a moment (Retry-After) before the next try
                return added.status_code
            placed = gateway.post("/api/v1/orders", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                                  json={"address_id": address["id"]})
            return placed.status_code

        stop = threading.Event()
        stream = threading.Thread(target=lambda: [answers.append(one_checkout()) for _ in iter(stop.is_set, True)])
        stream.start()
        try:
            eventually(lambda: answers.count(201) >= 3, **SLOW, what="the first checkouts")
            catalog.send_signal(signal.SIGKILL)  # wherever the stream is: maybe inside a reservation
            catalog.wait(timeout=30)
            eventually(lambda: answers.count(503) >= 2, **SLOW, what="checkouts refused while it is down")
            with server_process(tmp_path, env, *serve, "catalog", port=port["catalog"]):
                resumed = len(answers)
                eventually(lambda: answers[resumed:].count(201) >= 3, **SLOW, what="checkouts after the restart")
                stop.set()
                stream.join(timeout=60)
                _check_the_books(split, answers, before)
        finally:
            stop.set()


def _check_the_books(split: SplitLayout, answers: list[int], before: list[tuple[Any, ...]]) -> None:
    assert set(answers) <= {201, 503}, answers  # never a 500
    orders = _rows(split.urls["core"], "SELECT reservation, order_status FROM orders.orders")
    reservations = dict(_rows(split.urls["catalog"], "SELECT reference, status FROM catalog.reservations"))
    assert len(orders) == answers.count(201)  # no half-made order
    for reference, status in orders:  # every order has its reservation
        assert reservations.get(reference) in ("held", "released", "expired"), (reference, status)

    def held() -> list[tuple[Any, ...]]:
        return _rows(split.urls["catalog"], "SELECT reference FROM catalog.reservations WHERE status = 'held'")

    # Orders expire (short TTL) and release; holds whose answer was lost expire in the catalog's sweep.
    eventually(lambda: held() == [], timeout=120, interval=0.2, what="every hold released or expired")
    assert _rows(split.urls["catalog"], "SELECT id, quantity FROM catalog.inventory ORDER BY id") == before
    assert _rows(split.urls["catalog"], "SELECT COALESCE(SUM(reserved), 0) FROM catalog.inventory") == [(0,)]
