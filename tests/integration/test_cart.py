"""The cart against real databases: every change moves ``updated_at`` and runs one at a time per cart (real
threads at the 100-line limit), and the idle-cart purge deletes only carts nobody changed, also while
customers add to them."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, NotFound
from ecommerce.modules.orders import cart, checkout
from ecommerce.modules.orders.models import Cart, CartItem
from tests.support.catalog import stocked
from tests.support.orders import fill, shopper

LONG_AGO = datetime.datetime(2020, 1, 1)
#: The races are between transactions on the orders database: one shared SQLite file and PostgreSQL show
#: them all (a database per module, or reads from a replica, changes nothing for the cart's row).
races = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
DAY = datetime.timedelta(days=1)


def changed_at(kernel: Kernel, user_id: int) -> datetime.datetime | None:
    found = kernel.runner.call(lambda: Cart.get_or_none(Cart.user_id == user_id))
    return None if found is None else found.updated_at


def backdate(kernel: Kernel, user_id: int, when: datetime.datetime = LONG_AGO) -> None:
    """As if the user had last changed the cart at ``when``."""
    assert kernel.runner.call(lambda: Cart.update(updated_at=when).where(Cart.user_id == user_id).execute()) == 1


def lines_of(kernel: Kernel, user_id: int) -> dict[int, int]:
    return dict(kernel.runner.call(cart.lines, user_id))


def test_every_change_of_a_cart_moves_updated_at_and_a_refused_one_does_not(kernel: Kernel) -> None:
    a, _ = stocked(kernel, 50)
    b, _ = stocked(kernel, 50)
    user_id, address_id = shopper(kernel)
    changes: list[tuple[str, Callable[[], Any]]] = [
        ("add", lambda: cart.add(user_id, a, 2)),
        ("add another", lambda: cart.add(user_id, b, 1)),
        ("set a quantity", lambda: cart.set_quantity(user_id, a, 5)),
        ("remove a line", lambda: cart.remove(user_id, b)),
        ("check out", lambda: checkout.checkout(user_id, address_id)),
        ("add after checkout", lambda: cart.add(user_id, b, 1)),
        ("empty it", lambda: cart.clear(user_id)),
    ]
    kernel.runner.call(cart.add, user_id, a, 1)
    created = kernel.runner.call(lambda: Cart.get(Cart.user_id == user_id).created_at)
    for name, change in changes:
        backdate(kernel, user_id)
        before = utcnow()
        kernel.runner.call(change)
        moved = changed_at(kernel, user_id)
        assert moved is not None and moved >= before - datetime.timedelta(seconds=1), name
    assert kernel.runner.call(lambda: Cart.get(Cart.user_id == user_id).created_at) == created

    backdate(kernel, user_id)
    for refused in (lambda: cart.set_quantity(user_id, a, 3), lambda: cart.remove(user_id, a),
                    lambda: cart.add(user_id, 10**9, 1)):  # not in the (empty) cart, or no such product
        with pytest.raises(NotFound):
            kernel.runner.call(refused)
    assert changed_at(kernel, user_id) == LONG_AGO  # rolled back with the refused change


@races
def test_concurrent_adds_never_pass_the_100_line_limit(kernel: Kernel) -> None:
    """Real threads, each adding another product to a cart of 99 lines at the same moment: exactly one
    gets the 100th line. Before every change locked the cart's row, each add counted its own new line
    plus the 99 committed ones, so on PostgreSQL several passed and the cart grew past 100."""
    racers = [stocked(kernel, 10)[0] for _ in range(6)]
    user_id, _ = shopper(kernel)
    kernel.runner.call(cart.add, user_id, racers[0], 1)
    cart_id = kernel.runner.call(lambda: Cart.get(Cart.user_id == user_id).id)
    now = utcnow()
    kernel.runner.call(lambda: CartItem.insert_many(  # 98 lines of products long gone: they still count
        [(cart_id, 10**8 + n, 1, now) for n in range(98)],
        fields=[CartItem.cart, CartItem.product_id, CartItem.quantity, CartItem.added_at]).execute())
    barrier = threading.Barrier(len(racers) - 1)
    outcomes: list[str] = []

    def add(product_id: int) -> None:
        barrier.wait()
        try:
            kernel.runner.call(cart.add, user_id, product_id, 1)
            outcomes.append("added")
        except Conflict:
            outcomes.append("full")

    threads = [threading.Thread(target=add, args=(pid,)) for pid in racers[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["added"] + ["full"] * (len(racers) - 2)
    assert len(lines_of(kernel, user_id)) == 100


def test_the_purge_deletes_the_idle_carts_with_their_lines_and_keeps_the_others(kernel: Kernel) -> None:
    product_id, _ = stocked(kernel, 50)
    idle = [shopper(kernel)[0] for _ in range(5)]
    active, just_inside = shopper(kernel)[0], shopper(kernel)[0]
    for user_id in (*idle, active, just_inside):
        fill(kernel, user_id, (product_id, 2))
    lifetime = datetime.timedelta(days=90)  # the module's default cart_ttl
    now = utcnow()
    for user_id in idle:
        backdate(kernel, user_id, now - lifetime - DAY)
    backdate(kernel, just_inside, now - lifetime + DAY)

    assert kernel.runner.call(cart.purge_idle, now, 2) == 2  # one batch per call, oldest first
    assert kernel.runner.call(cart.purge_idle, now, 2) == 2
    assert kernel.runner.call(cart.purge_idle, now, 2) == 1
    assert kernel.runner.call(cart.purge_idle, now) == 0

    assert all(changed_at(kernel, user_id) is None and lines_of(kernel, user_id) == {} for user_id in idle)
    assert kernel.runner.call(lambda: CartItem.select().join(Cart).where(Cart.user_id.in_(idle)).count()) == 0
    assert lines_of(kernel, active) == lines_of(kernel, just_inside) == {product_id: 2}
    kernel.runner.call(cart.add, idle[0], product_id, 1)  # the next add simply makes a new cart
    assert lines_of(kernel, idle[0]) == {product_id: 1}


def race_adds_and_purges(kernel: Kernel, customers: list[int], product_id: int) -> list[int]:
    """Every customer adds one unit while two purges run, all released at once; what the purges deleted."""
    barrier = threading.Barrier(len(customers) + 2)
    purged: list[int] = []

    def add(user_id: int) -> None:
        barrier.wait()
        kernel.runner.call(cart.add, user_id, product_id, 1)

    def purge() -> None:
        barrier.wait()
        purged.append(kernel.runner.call(cart.purge_idle, None, 3))

    threads = [threading.Thread(target=add, args=(user_id,)) for user_id in customers]
    threads += [threading.Thread(target=purge) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return purged


@races
def test_the_purge_racing_adds_never_loses_a_line_just_added(kernel: Kernel) -> None:
    """Real threads: customers add to carts the purge is deleting at the same moment, three times over.
    Whichever wins, a line whose add returned is in the cart afterwards: the purge either deleted the cart
    before the add (which made a new one) or found it changed and kept it. (With the cutoff only in the
    DELETE's subquery, PostgreSQL deleted carts changed while the purge waited for their lock.)"""
    product_id, _ = stocked(kernel, 500)
    customers = [shopper(kernel)[0] for _ in range(8)]
    for user_id in customers:
        fill(kernel, user_id, (product_id, 1))
    for round_ in range(3):
        for user_id in customers:
            backdate(kernel, user_id)
        purged = race_adds_and_purges(kernel, customers, product_id)
        for user_id in customers:
            assert lines_of(kernel, user_id).get(product_id, 0) >= 1, (round_, user_id, purged)
            assert changed_at(kernel, user_id) != LONG_AGO
