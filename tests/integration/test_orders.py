"""Orders against real databases: the checkout race, expiry once, every transition, payment reactions."""

from __future__ import annotations

import datetime
import itertools
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.catalog.models import Inventory
from ecommerce.modules.orders import lifecycle, states
from ecommerce.modules.orders.models import Order
from tests.support import paysim_module
from tests.support.catalog import stocked
from tests.support.orders import fill, shopper


@pytest.fixture
def kernel(settings: Settings) -> Iterator[Kernel]:
    k = Kernel(settings, modules={**discover(), "paysim": paysim_module.module})
    k.migrate()
    yield k
    k.close()


def stock_of(kernel: Kernel, product_id: int) -> tuple[int, int]:
    return kernel.runner.call(
        lambda: Inventory.select(Inventory.quantity, Inventory.reserved).where(Inventory.product == product_id)
        .tuples().get()
    )


def order(kernel: Kernel, order_id: int) -> Order:
    return kernel.runner.call(Order.get_by_id, order_id)


def test_thirty_shoppers_for_the_last_ten_units(kernel: Kernel) -> None:
    product_id, _ = stocked(kernel, 10)
    shoppers = [shopper(kernel) for _ in range(30)]
    for user_id, _ in shoppers:
        fill(kernel, user_id, (product_id, 1))
    barrier = threading.Barrier(30)
    outcomes: list[str] = []

    def buy(user_id: int, address_id: int) -> None:
        barrier.wait()
        try:
            kernel.runner.call(lifecycle.checkout, user_id, address_id)
            outcomes.append("order")
        except catalog.InsufficientStock:
            outcomes.append("409")
        except Exception as exc:  # any other outcome is a bug
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=buy, args=s) for s in shoppers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(outcomes) == {"order": 10, "409": 20}
    assert kernel.runner.call(lambda: Order.select().count()) == 10
    assert stock_of(kernel, product_id) == (10, 10)


def pending_order(kernel: Kernel, quantity: int = 2) -> tuple[int, int]:
    product_id, _ = stocked(kernel, 10)
    user_id, address_id = shopper(kernel)
    fill(kernel, user_id, (product_id, quantity))
    return kernel.runner.call(lifecycle.checkout, user_id, address_id), product_id


def test_expiry_releases_stock_exactly_once_with_concurrent_jobs(kernel: Kernel) -> None:
    order_id, product_id = pending_order(kernel, 3)
    assert stock_of(kernel, product_id) == (10, 3)
    later = utcnow() + datetime.timedelta(hours=1)
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def job() -> None:
        barrier.wait()
        counts.append(kernel.runner.call(lifecycle.expire_due, later))

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == [0, 0, 0, 1]
    assert order(kernel, order_id).order_status == states.EXPIRED
    assert stock_of(kernel, product_id) == (10, 0)
    kernel.relay_until_idle()  # the safety-net reaction releases again: a no-op
    assert stock_of(kernel, product_id) == (10, 0)
    assert kernel.runner.call(lifecycle.expire_due, later) == 0


def test_orders_not_yet_due_do_not_expire(kernel: Kernel) -> None:
    order_id, _ = pending_order(kernel)
    assert kernel.runner.call(lifecycle.expire_due) == 0
    assert order(kernel, order_id).order_status == states.PENDING


#: The order life cycle, written out by hand (not read from ``states.TRANSITIONS``): a wrong entry in the
#: table fails here instead of being copied into the expectation.
LEGAL_MOVES = {
    ("pending_payment", "paid"), ("pending_payment", "cancelled"), ("pending_payment", "expired"),
    ("paid", "fulfilled"), ("paid", "cancelled"),
    ("fulfilled", "shipped"), ("fulfilled", "refunded"),
    ("shipped", "delivered"), ("shipped", "refunded"),
    ("delivered", "refunded"),
}
ALL_STATES = ("pending_payment", "paid", "fulfilled", "shipped", "delivered", "cancelled", "expired", "refunded")


def test_the_transition_table_is_the_documented_life_cycle() -> None:
    assert set(states.STATES) == set(ALL_STATES)
    assert {(a, b) for a, targets in states.TRANSITIONS.items() for b in targets} == LEGAL_MOVES
    assert {"pending_payment", "paid"} == states.CUSTOMER_CANCELLABLE
    assert {"fulfilled", "shipped", "delivered"} == states.AFTER_FULFILMENT
    assert {"cancelled", "expired", "refunded"} == states.FINAL


def test_customer_cancellable_states_come_from_the_table() -> None:
    """Derived, not listed: a table that let a fulfilled order be cancelled (an admin's move) still would
    not let a customer cancel it, and a table without ``paid -> cancelled`` would stop customers too."""
    wrong = {**states.TRANSITIONS, states.FULFILLED: states.TRANSITIONS[states.FULFILLED] | {states.CANCELLED}}
    assert states.customer_cancellable(wrong) == {"pending_payment", "paid"}
    stricter = {**states.TRANSITIONS, states.PAID: frozenset({states.FULFILLED})}
    assert states.customer_cancellable(stricter) == {"pending_payment"}


def test_every_transition_legal_and_illegal(kernel: Kernel) -> None:
    """Every pair of states, both ways, against the hand-written list: each legal move works, each illegal
    one is a 409 naming both states and changes nothing."""
    order_id, _ = pending_order(kernel)
    checked = 0
    for current, target in itertools.product(ALL_STATES, ALL_STATES):
        kernel.runner.call(lambda c=current: Order.update(order_status=c).where(Order.id == order_id).execute())
        if (current, target) in LEGAL_MOVES:
            assert kernel.runner.call(lifecycle.transition, order_id, target).order_status == target
        else:
            with pytest.raises(Conflict) as caught:
                kernel.runner.call(lifecycle.transition, order_id, target)
            assert f"from {current} to {target}" in caught.value.detail
            assert order(kernel, order_id).order_status == current
        checked += 1
    assert checked == 64


def test_payment_succeeded_pays_once_and_commits_stock(kernel: Kernel) -> None:
    order_id, product_id = pending_order(kernel, 2)
    placed = order(kernel, order_id)
    kernel.runner.call(paysim_module.succeed, order_id, placed.user_id, placed.total)
    kernel.runner.call(paysim_module.succeed, order_id, placed.user_id, placed.total, payment_id=2)  # a duplicate
    kernel.relay_until_idle()
    paid = order(kernel, order_id)
    assert (paid.order_status, paid.payment_status) == (states.PAID, "paid")
    assert stock_of(kernel, product_id) == (8, 0)  # the two units left the warehouse, once


def test_payment_failed_keeps_the_order_payable(kernel: Kernel) -> None:
    order_id, product_id = pending_order(kernel, 1)
    placed = order(kernel, order_id)
    kernel.runner.call(paysim_module.fail, order_id, placed.user_id)
    kernel.relay_until_idle()
    failed = order(kernel, order_id)
    assert (failed.order_status, failed.payment_status) == (states.PENDING, "failed")
    assert stock_of(kernel, product_id) == (10, 1)


def test_a_refund_of_a_paid_order_cancels_it_however_it_came(kernel: Kernel) -> None:
    """Payments' policy cancels a paid order before refunding it; should a ``PaymentRefunded`` reach a
    ``paid`` order anyway (a partial one, say), orders cancels it: it must never ship part-refunded."""
    from ecommerce.modules.orders.models import events

    order_id, product_id = pending_order(kernel, 2)
    placed = order(kernel, order_id)
    kernel.runner.call(paysim_module.succeed, order_id, placed.user_id, placed.total)
    kernel.relay_until_idle()
    assert stock_of(kernel, product_id) == (8, 0)
    kernel.runner.call(paysim_module.refunded, order_id, placed.user_id, 100, fully=False)
    kernel.relay_until_idle()
    now = order(kernel, order_id)
    assert (now.order_status, now.payment_status) == (states.CANCELLED, "partially_refunded")
    assert stock_of(kernel, product_id) == (10, 0)  # the release safety net put the units back
    payloads = kernel.runner.call(lambda: [r.payload for r in events.Outbox.select().order_by(events.Outbox.id)])
    assert '"to_status":"cancelled"' in payloads[-1] and '"refund_requested":true' in payloads[-1]


@pytest.mark.parametrize(("path", "fully", "expected"), [
    (("fulfilled",), False, ("fulfilled", "partially_refunded")),
    (("fulfilled", "shipped"), True, ("refunded", "refunded")),
    (("fulfilled", "shipped", "delivered"), True, ("refunded", "refunded")),
    (("cancelled",), True, ("cancelled", "refunded")),
], ids=["part-fulfilled", "all-shipped", "all-delivered", "all-cancelled"])
def test_a_refund_after_fulfilment_says_what_happened(kernel: Kernel, path: tuple[str, ...], fully: bool,
                                                       expected: tuple[str, str]) -> None:
    order_id, _ = pending_order(kernel, 1)
    placed = order(kernel, order_id)
    kernel.runner.call(paysim_module.succeed, order_id, placed.user_id, placed.total)
    kernel.relay_until_idle()
    for target in path:
        kernel.runner.call(lifecycle.admin_transition, order_id, target)
    kernel.relay_until_idle()
    kernel.runner.call(paysim_module.refunded, order_id, placed.user_id, placed.total, fully=fully)
    kernel.relay_until_idle()
    now = order(kernel, order_id)
    assert (now.order_status, now.payment_status) == expected


def test_cancelling_a_paid_order_restocks_and_asks_for_a_refund(kernel: Kernel) -> None:
    from ecommerce.modules.orders.models import events

    order_id, product_id = pending_order(kernel, 2)
    placed = order(kernel, order_id)
    kernel.runner.call(paysim_module.succeed, order_id, placed.user_id, placed.total)
    kernel.relay_until_idle()
    kernel.runner.call(lifecycle.cancel, placed.user_id, order_id)
    assert stock_of(kernel, product_id) == (10, 0)
    payloads = kernel.runner.call(lambda: [r.payload for r in events.Outbox.select().order_by(events.Outbox.id)])
    assert '"to_status":"cancelled"' in payloads[-1] and '"refund_requested":true' in payloads[-1]
    with pytest.raises(Conflict):
        kernel.runner.call(lifecycle.cancel, placed.user_id, order_id)
    assert stock_of(kernel, product_id) == (10, 0)


def test_only_the_owner_can_get_an_order_to_pay(kernel: Kernel) -> None:
    from ecommerce.kernel.errors import NotFound
    from ecommerce.modules.orders import api as orders

    order_id, _ = pending_order(kernel)
    owner = order(kernel, order_id).user_id
    payable = kernel.runner.call(orders.payable, owner, order_id)
    assert payable.can_be_paid and payable.amount == order(kernel, order_id).total
    stranger, _ = shopper(kernel)
    with pytest.raises(NotFound):
        kernel.runner.call(orders.payable, stranger, order_id)
