"""SIGKILL a real server in the middle of a checkout, restart it, and check the books (issue 14, item 5).

Each run starts ``ecommerce serve`` in a child process with ``ECOMMERCE_CRASH_AT`` naming one instant of
the checkout (``ecommerce.kernel.faults.POINTS``): the process kills itself there with SIGKILL, so no
``finally`` and no compensation runs. The server is restarted on the same data directory or database with
a 2-second order TTL, one more shopper checks out and pays, and once the deadline has passed the books
must balance: no reservation is still held without a live order, ``reserved`` is exactly the held lines,
and the stock on hand plus the committed units is the stock we started with.
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from peewee import fn

from ecommerce.kernel import faults
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog.models import Inventory, Reservation, ReservationLine
from ecommerce.modules.orders.models import Order
from tests.conftest import EXTRA_MODULES
from tests.support import databases
from tests.support.catalog import stocked
from tests.support.orders import fill, shopper
from tests.support.polling import eventually
from tests.support.processes import cli_env, server_process

STOCK = 10
TTL = 2  # seconds: ECOMMERCE_ORDER_TTL of the restarted server
PASSWORD = "shopping-password-1"  # tests.support.orders.shopper's


def server(tmp_path: Path, env: dict[str, str]) -> AbstractContextManager[tuple[subprocess.Popen[str], str]]:
    """``ecommerce serve`` (one process) until the block ends or it dies; yields it and its URL once ready."""
    return server_process(tmp_path, env, stop=signal.SIGTERM)


def checkout(client: httpx.Client, headers: dict[str, str], address_id: int) -> httpx.Response:
    return client.post("/api/v1/orders", json={"address_id": address_id},
                       headers={**headers, "Idempotency-Key": uuid.uuid4().hex})


def books(kernel: Kernel, product_id: int) -> dict[str, Any]:
    """Everything the invariants need, read straight from the two modules' tables."""
    def read() -> dict[str, Any]:
        inventory = list(Inventory.select(Inventory.id, Inventory.quantity, Inventory.reserved)
                         .where(Inventory.product == product_id).tuples())
        reservations = {r.reference: r.status for r in Reservation.select()}
        lines: dict[str, dict[int, int]] = {}
        for ref, inv, qty in (ReservationLine.select(Reservation.reference, ReservationLine.inventory_id,
                                                     fn.SUM(ReservationLine.quantity))
                              .join(Reservation)
                              .group_by(Reservation.reference, ReservationLine.inventory_id).tuples()):
            lines.setdefault(ref, {})[inv] = int(qty)
        orders = {o.reservation: (o.order_status, o.expires_at) for o in Order.select()}
        return {"inventory": inventory, "reservations": reservations, "lines": lines, "orders": orders}

    result: dict[str, Any] = kernel.runner.call(read)
    return result


def unbalanced(book: dict[str, Any]) -> list[str]:
    """The broken invariants (empty when the books balance)."""
    problems = []
    now = utcnow()
    for reference, status in book["reservations"].items():
        order = book["orders"].get(reference)
        if status == "held" and (order is None or order[0] != "pending_payment" or order[1] <= now):
            problems.append(f"{reference} is held without a live pending order ({order})")
    for inv_id, quantity, reserved in book["inventory"]:
        held = sum(lines.get(inv_id, 0) for ref, lines in book["lines"].items()
                   if book["reservations"][ref] == "held")
        committed = sum(lines.get(inv_id, 0) for ref, lines in book["lines"].items()
                        if book["reservations"][ref] == "committed")
        if reserved != held:
            problems.append(f"inventory {inv_id}: reserved {reserved} but held lines make {held}")
        if quantity + committed != STOCK:
            problems.append(f"inventory {inv_id}: {quantity} on hand + {committed} committed != {STOCK}")
    return problems


@pytest.mark.parametrize("point", sorted(p for p in faults.POINTS if p.startswith("checkout.")))
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_checkout_killed_at_any_instant_leaves_no_stock_held_past_the_order_ttl(
        tmp_path: Path, backend: str, point: str, request: pytest.FixtureRequest) -> None:
    extra = {"ECOMMERCE_ORDER_TTL": str(TTL), "ECOMMERCE_JOB_INTERVAL": "0.25", "ECOMMERCE_RELAY_INTERVAL": "0.25"}
    if backend == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        databases.reset_schemas(url, [*discover(), *EXTRA_MODULES])
        extra["ECOMMERCE_DATABASE_URL"] = url
    env = cli_env(tmp_path, **extra)
    # The shop, through the real use cases, on the very database the server will use.
    kernel = Kernel(Settings.from_env(env))
    try:
        kernel.migrate()
        product_id, _ = stocked(kernel, STOCK)
        victim, victim_address = shopper(kernel)
        fill(kernel, victim, (product_id, 3))
        payer, payer_address = shopper(kernel)
        fill(kernel, payer, (product_id, 2))
        emails = {uid: kernel.runner.call(lambda u=uid: _email(u)) for uid in (victim, payer)}

        with server(tmp_path, {**env, faults.ENV: point}) as (proc, base), httpx.Client(base_url=base,
                                                                                         timeout=30) as c:
            headers = _login(c, emails[victim])
            with pytest.raises(httpx.TransportError):  # the server dies mid-request: no answer at all
                checkout(c, headers, victim_address)
            assert proc.wait(timeout=30) == -9, "the server did not die by SIGKILL at " + point

        with server(tmp_path, env) as (_, base), httpx.Client(base_url=base, timeout=30) as c:
            headers = _login(c, emails[payer])
            placed = checkout(c, headers, payer_address)
            assert placed.status_code == 201, placed.text
            card = c.post("/api/v1/payments/tokens", headers=headers, json={
                "card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2035, "cvc": "7391",
                "holder_name": "Ada Lovelace"}).json()
            paid = c.post("/api/v1/payments", json={"order_id": placed.json()["id"], "token_id": card["id"],
                                                    "cvc": "7391"},
                          headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            assert paid.status_code == 201 and paid.json()["status"] == "succeeded", paid.text
            # Past the deadline of everything placed so far, the jobs must have balanced the books.
            def balanced() -> dict[str, Any]:
                book = books(kernel, product_id)
                assert unbalanced(book) == [], unbalanced(book)
                assert all(s != "held" for s in book["reservations"].values()) and any(
                    s == "committed" for s in book["reservations"].values()), book
                return book

            book = eventually(balanced, timeout=TTL + 20, interval=0.25)
        statuses = sorted(book["reservations"].values())
        assert statuses.count("committed") == 1  # the paid order's units left the warehouse, once
        assert book["inventory"][0][1:] == (STOCK - 2, 0)
    finally:
        kernel.close()


def _email(user_id: int) -> str:
    from ecommerce.modules.users.models import User

    return str(User.get_by_id(user_id).email)


def _login(client: httpx.Client, email: str) -> dict[str, str]:
    found = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert found.status_code == 200, found.text
    return {"Authorization": f"Bearer {found.json()['access_token']}"}
