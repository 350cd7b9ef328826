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
from ecommerce.modules.orders import checkout, states, transitions
from ecommerce.modules.orders.models import Order
from tests.support import paysim_module
from tests.support.catalog import stocked
from tests.support.orders import fill, shopper

#: Events cross modules here: these tests also run with the RabbitMQ transport.
pytestmark = pytest.mark.events


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
            kernel.runner.call(checkout.checkout, user_id, address_id)
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
    return kernel.runner.call(checkout.checkout, user_id, address_id), product_id


def test_expiry_releases_stock_exactly_once_with_concurrent_jobs(kernel: Kernel) -> None:
    order_id, product_id = pending_order(kernel, 3)
    assert stock_of(kernel, product_id) == (10, 3)
    later = utcnow() + datetime.timedelta(hours=1)
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def job() -> None:
        barrier.wait()
        counts.append(kernel.runner.call(transitions.expire_due, later))

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
    assert kernel.runner.call(transitions.expire_due, later) == 0


def test_orders_not_yet_due_do_not_expire(kernel: Kernel) -> None:
    order_id, _ = pending_order(kernel)
    assert kernel.runner.call(transitions.expire_due) == 0
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
            assert kernel.runner.call(transitions.transition, order_id, target).order_status == target
        else:
            with pytest.raises(Conflict) as caught:
                kernel.runner.call(transitions.transition, order_id, target)
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
        kernel.runner.call(transitions.admin_transition, order_id, target)
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
    kernel.runner.call(transitions.cancel, placed.user_id, order_id)
    assert stock_of(kernel, product_id) == (10, 0)
    payloads = kernel.runner.call(lambda: [r.payload for r in events.Outbox.select().order_by(events.Outbox.id)])
    assert '"to_status":"cancelled"' in payloads[-1] and '"refund_requested":true' in payloads[-1]
    with pytest.raises(Conflict):
        kernel.runner.call(transitions.cancel, placed.user_id, order_id)
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


def cart_of(kernel: Kernel, user_id: int) -> dict[int, int]:
    from ecommerce.modules.orders import cart

    return dict(kernel.runner.call(cart.lines, user_id))


def ordered(kernel: Kernel, order_id: int) -> dict[int, int]:
    from ecommerce.modules.orders.models import OrderItem

    return dict(kernel.runner.call(lambda: list(
        OrderItem.select(OrderItem.product_id, OrderItem.quantity).where(OrderItem.order == order_id).tuples()
    )))


def test_checkout_removes_only_the_ordered_units_while_the_cart_keeps_changing(kernel: Kernel) -> None:
    """Real threads (issue 14): each shopper keeps adding to its cart while its checkout runs. Every unit
    added must end up either in the order or still in the cart — none may vanish with the checkout."""
    from ecommerce.modules.orders import cart

    a, _ = stocked(kernel, 500)
    b, _ = stocked(kernel, 500)
    shoppers = [shopper(kernel) for _ in range(6)]
    for user_id, _ in shoppers:
        fill(kernel, user_id, (a, 2))
    barrier = threading.Barrier(2 * len(shoppers))
    orders: dict[int, int] = {}
    added: dict[int, Counter[int]] = {user_id: Counter({a: 2}) for user_id, _ in shoppers}
    done = {user_id: threading.Event() for user_id, _ in shoppers}

    def buy(user_id: int, address_id: int) -> None:
        barrier.wait()
        try:
            orders[user_id] = kernel.runner.call(checkout.checkout, user_id, address_id)
        finally:
            done[user_id].set()

    def keep_adding(user_id: int) -> None:
        barrier.wait()
        for n in itertools.count():
            if done[user_id].is_set() or n >= 60:
                break
            product_id = b if n % 2 else a
            kernel.runner.call(cart.add, user_id, product_id, 1)
            added[user_id][product_id] += 1

    threads = [threading.Thread(target=buy, args=s) for s in shoppers]
    threads += [threading.Thread(target=keep_adding, args=(s[0],)) for s in shoppers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(orders) == len(shoppers)
    for user_id, _ in shoppers:
        in_order, in_cart = Counter(ordered(kernel, orders[user_id])), Counter(cart_of(kernel, user_id))
        assert in_order + in_cart == added[user_id], (user_id, in_order, in_cart)


def test_a_line_added_or_raised_during_checkout_stays_in_the_cart(kernel: Kernel,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A deterministic interleaving through the real use cases: while the checkout holds the stock and has
    not yet written the order, another request raises one line and adds a new one."""
    from ecommerce.modules.orders import cart

    a, _ = stocked(kernel, 50)
    b, _ = stocked(kernel, 50)
    c, _ = stocked(kernel, 50)
    user_id, address_id = shopper(kernel)
    fill(kernel, user_id, (a, 2), (b, 1))
    reserve = catalog.reserve_priced

    def reserve_then_change_the_cart(*args: object, **kwargs: object) -> object:
        held = reserve(*args, **kwargs)  # type: ignore[arg-type]

        def meanwhile() -> None:  # another request, on another connection
            kernel.runner.call(cart.add, user_id, a, 3)
            kernel.runner.call(cart.add, user_id, c, 1)

        other = threading.Thread(target=meanwhile)
        other.start()
        other.join()
        return held

    monkeypatch.setattr(catalog, "reserve_priced", reserve_then_change_the_cart)
    order_id = kernel.runner.call(checkout.checkout, user_id, address_id)
    assert ordered(kernel, order_id) == {a: 2, b: 1}
    assert cart_of(kernel, user_id) == {a: 3, c: 1}  # the raise and the new line survive the checkout


def reservation_of(kernel: Kernel, order_id: int) -> tuple[str, datetime.datetime]:
    from ecommerce.modules.catalog.models import Reservation

    reference = order(kernel, order_id).reservation
    found = kernel.runner.call(Reservation.get, Reservation.reference == reference)
    return found.status, found.expires_at


def sweep(kernel: Kernel, now: datetime.datetime | None = None) -> int:
    from ecommerce.modules.catalog import reservations

    return kernel.runner.call(reservations.expire_due, now)


def test_the_order_and_its_stock_share_one_deadline(kernel: Kernel) -> None:
    order_id, _ = pending_order(kernel)
    status, holds_until = reservation_of(kernel, order_id)
    assert status == "held" and holds_until == order(kernel, order_id).expires_at


def test_order_expiry_and_the_reservation_sweep_agree(kernel: Kernel) -> None:
    """Issue 14: the orders' expiry job and the catalog's sweep run at the same moment in several workers;
    every order expires once and its units come back once, whichever of the two wins."""
    product_id, _ = stocked(kernel, 30)
    placed = []
    for _ in range(5):
        user_id, address_id = shopper(kernel)
        fill(kernel, user_id, (product_id, 2))
        placed.append(kernel.runner.call(checkout.checkout, user_id, address_id))
    assert stock_of(kernel, product_id) == (30, 10)
    later = utcnow() + datetime.timedelta(hours=1)
    jobs = [lambda: kernel.runner.call(transitions.expire_due, later), lambda: sweep(kernel, later)] * 3
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: object) -> None:
        barrier.wait()
        try:
            job()  # type: ignore[operator]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stock_of(kernel, product_id) == (30, 0)
    assert {order(kernel, o).order_status for o in placed} == {states.EXPIRED}
    assert {reservation_of(kernel, o)[0] for o in placed} <= {"released", "expired"}
    kernel.relay_until_idle()  # the safety-net releases: no-ops
    assert stock_of(kernel, product_id) == (30, 0)


def test_the_sweep_first_then_the_order_expiry_is_a_no_op(kernel: Kernel) -> None:
    order_id, product_id = pending_order(kernel, 3)
    later = utcnow() + datetime.timedelta(hours=1)
    assert sweep(kernel, later) == 1
    assert stock_of(kernel, product_id) == (10, 0)
    assert kernel.runner.call(transitions.expire_due, later) == 1
    kernel.relay_until_idle()
    assert order(kernel, order_id).order_status == states.EXPIRED
    assert reservation_of(kernel, order_id)[0] == "released"  # closed: no late commit can take it now
    assert stock_of(kernel, product_id) == (10, 0)


def test_a_payment_after_the_stock_expired_takes_it_again(kernel: Kernel) -> None:
    """PaymentSucceeded is relayed late: the sweep has already given the units back, the order's own expiry
    has not run yet. The order is paid and its units are taken again — nothing oversold."""
    order_id, product_id = pending_order(kernel, 2)
    assert sweep(kernel, utcnow() + datetime.timedelta(hours=1)) == 1
    placed = order(kernel, order_id)
    kernel.runner.call(paysim_module.succeed, order_id, placed.user_id, placed.total)
    kernel.relay_until_idle()
    assert order(kernel, order_id).order_status == states.PAID
    assert reservation_of(kernel, order_id)[0] == "committed"
    assert stock_of(kernel, product_id) == (8, 0)


def test_a_payment_after_its_units_were_sold_cancels_the_order_with_a_refund(kernel: Kernel) -> None:
    """The late payment finds the expired units sold to someone else: no oversell, and the paid order is
    cancelled with a refund request (payments gives the money back): no lost unit, no lost money."""
    from ecommerce.modules.orders.models import events

    product_id, _ = stocked(kernel, 2)
    user_id, address_id = shopper(kernel)
    fill(kernel, user_id, (product_id, 2))
    late = kernel.runner.call(checkout.checkout, user_id, address_id)
    assert sweep(kernel, utcnow() + datetime.timedelta(hours=1)) == 1
    other, other_address = shopper(kernel)
    fill(kernel, other, (product_id, 2))
    kernel.runner.call(checkout.checkout, other, other_address)  # the freed units, sold again
    placed = order(kernel, late)
    kernel.runner.call(paysim_module.succeed, late, placed.user_id, placed.total)
    kernel.relay_until_idle()
    assert order(kernel, late).order_status == states.CANCELLED
    assert stock_of(kernel, product_id) == (2, 2)  # only the other order's hold
    payloads = kernel.runner.call(lambda: [r.payload for r in events.Outbox.select().order_by(events.Outbox.id)])
    assert any(f'"order_id":{late}' in p and '"to_status":"cancelled"' in p and '"refund_requested":true' in p
               for p in payloads)
    kernel.runner.call(paysim_module.succeed, late, placed.user_id, placed.total, payment_id=2)  # redelivered
    kernel.relay_until_idle()
    assert order(kernel, late).order_status == states.CANCELLED and stock_of(kernel, product_id) == (2, 2)


def test_the_idempotent_answer_commits_with_the_order_or_not_at_all(kernel: Kernel) -> None:
    """The route stores its answer inside the order's transaction (one commit for both, ADR 0015): if
    that transaction fails, neither the order nor the answer exists, the stock comes back and the key
    stays claimed (the route then drops it); when it commits, the key replays exactly that order."""
    from ecommerce.kernel.idempotency import Claim, Owned
    from ecommerce.modules.orders.models import idempotency

    product, _ = stocked(kernel, 5)
    user_id, address_id = shopper(kernel)
    fill(kernel, user_id, (product, 2))
    scope, key = str(user_id), "one-commit"
    owned = kernel.runner.call(idempotency.claim, scope, key, "fingerprint")
    assert isinstance(owned, Owned)
    claim = Claim(idempotency, scope, key, owned)

    def answer_then_fail(order_id: int) -> None:
        claim.respond(201, {"id": order_id})
        raise RuntimeError("the order's transaction fails after the answer was written")

    with pytest.raises(RuntimeError):
        kernel.runner.call(checkout.checkout, user_id, address_id, answer_then_fail)
    Key = idempotency.Key
    row = kernel.runner.call(Key.get, (Key.scope == scope) & (Key.key == key))
    assert (row.status, row.response_body) == ("in_flight", None)
    assert kernel.runner.call(lambda: Order.select().where(Order.user_id == user_id).count()) == 0
    assert stock_of(kernel, product) == (5, 0) and cart_of(kernel, user_id) == {product: 2}

    order_id = kernel.runner.call(checkout.checkout, user_id, address_id,
                                  lambda placed: claim.respond(201, {"id": placed}))
    assert kernel.runner.call(idempotency.claim, scope, key, "fingerprint").body == {"id": order_id}
    assert stock_of(kernel, product) == (5, 2) and cart_of(kernel, user_id) == {}


def test_an_expired_key_is_claimed_again_in_one_statement_and_a_live_one_never(kernel: Kernel) -> None:
    """The claim is one upsert: a new key is inserted, the caller's expired key is replaced by a fresh claim
    (any body: its old answer is gone), a live key (answered or in flight) is left exactly as it was."""
    from ecommerce.kernel.errors import Unprocessable
    from ecommerce.kernel.idempotency import TTL, Owned, StoredResponse
    from ecommerce.modules.orders.models import idempotency

    call, Key = kernel.runner.call, idempotency.Key
    first = call(idempotency.claim, "7", "reused", "fingerprint")
    assert isinstance(first, Owned)
    assert call(idempotency.finish, "7", "reused", 201, {"id": 1}, first)
    replay = call(idempotency.claim, "7", "reused", "fingerprint")
    assert isinstance(replay, StoredResponse) and replay.body == {"id": 1}
    assert isinstance(call(idempotency.claim, "8", "in-flight", "fingerprint"), Owned)
    with pytest.raises(Conflict):
        call(idempotency.claim, "8", "in-flight", "fingerprint")
    with pytest.raises(Unprocessable):
        call(idempotency.claim, "8", "in-flight", "another body")

    gone = utcnow() - TTL - datetime.timedelta(seconds=1)
    call(lambda: Key.update(expires_at=gone, created_at=gone).where(Key.key == "reused").execute())
    again = call(idempotency.claim, "7", "reused", "another body")
    assert isinstance(again, Owned) and again.since > gone
    row = call(Key.get, (Key.scope == "7") & (Key.key == "reused"))
    assert (row.status, row.request_hash, row.response_status, row.response_body) == (
        "in_flight", "another body", None, None)
    assert row.expires_at > utcnow() and call(Key.select().count) == 2
    assert isinstance(call(idempotency.claim, "9", "reused", "fingerprint"), Owned)  # keys are per caller
    assert call(Key.select().count) == 3


def test_a_retry_takes_over_a_stale_claim_and_the_slow_owner_cannot_order_twice(kernel: Kernel) -> None:
    """A claim older than ``stale_after`` is taken over by the retry (its owner looks dead: killed between
    claim and order). If that owner was only slow, its answer is fenced off: storing it inside the order's
    transaction fails, so that order and its stock hold are undone, and the retry's order is the only one."""
    import datetime

    from ecommerce.kernel.errors import Conflict
    from ecommerce.kernel.idempotency import Claim, Owned
    from ecommerce.modules.orders.models import idempotency

    product, _ = stocked(kernel, 5)
    user_id, address_id = shopper(kernel)
    fill(kernel, user_id, (product, 2))
    scope, key, call, Key = str(user_id), "slow-owner", kernel.runner.call, idempotency.Key
    first = call(idempotency.claim, scope, key, "fingerprint")
    assert isinstance(first, Owned)
    with pytest.raises(Conflict) as busy:  # still fresh: the retry is told when to come back
        call(idempotency.claim, scope, key, "fingerprint")
    assert busy.value.retry_after is not None and 1 <= busy.value.retry_after <= idempotency.stale_after.seconds
    aged = first.since - idempotency.stale_after - datetime.timedelta(seconds=1)
    call(lambda: Key.update(created_at=aged).where((Key.scope == scope) & (Key.key == key)).execute())
    slow = Owned(aged)  # the first owner's token, as its aged claim carries it
    retry = call(idempotency.claim, scope, key, "fingerprint")
    assert isinstance(retry, Owned) and retry.since > aged

    with pytest.raises(Conflict, match="taken over"):
        call(checkout.checkout, user_id, address_id,
             lambda placed: Claim(idempotency, scope, key, slow).respond(201, {"id": placed}))
    assert call(lambda: Order.select().where(Order.user_id == user_id).count()) == 0
    assert stock_of(kernel, product) == (5, 0) and cart_of(kernel, user_id) == {product: 2}
    call(idempotency.release, scope, key, slow)  # the slow owner's clean-up leaves the retry's claim alone
    assert call(Key.get, (Key.scope == scope) & (Key.key == key)).status == "in_flight"

    order_id = call(checkout.checkout, user_id, address_id,
                    lambda placed: Claim(idempotency, scope, key, retry).respond(201, {"id": placed}))
    assert call(idempotency.claim, scope, key, "fingerprint").body == {"id": order_id}
    assert stock_of(kernel, product) == (5, 2) and cart_of(kernel, user_id) == {}
