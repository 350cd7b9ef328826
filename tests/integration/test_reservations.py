"""Reservations never oversell, are all-or-nothing, and release/commit exactly once — on every layout."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.errors import Conflict
from ecommerce.modules.catalog import api
from ecommerce.modules.catalog.models import Inventory
from tests.support.catalog import product, stocked, warehouse


def inventory(kernel: Kernel, product_id: int) -> list[tuple[int, int, int]]:
    """(warehouse id, quantity, reserved) rows of a product."""
    return kernel.runner.call(lambda: sorted(
        Inventory.select(Inventory.warehouse, Inventory.quantity, Inventory.reserved)
        .where(Inventory.product == product_id).tuples()
    ))


def run_concurrently(count: int, work: object) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            work(n)  # type: ignore[operator]
            result = "ok"
        except api.InsufficientStock:
            result = "insufficient"
        except Exception as exc:  # anything else is a bug: report it by type
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_fifty_concurrent_checkouts_for_ten_units(kernel: Kernel) -> None:
    product_id, warehouse_id = stocked(kernel, 10)
    outcomes = run_concurrently(50, lambda n: kernel.runner.call(api.reserve, f"order-{n}", [(product_id, 1)]))
    assert Counter(outcomes) == {"ok": 10, "insufficient": 40}
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 10)]


def test_two_line_reservation_with_a_short_line_reserves_nothing(kernel: Kernel) -> None:
    plenty, _ = stocked(kernel, 100)
    scarce, _ = stocked(kernel, 1)
    with pytest.raises(api.InsufficientStock) as caught:
        kernel.runner.call(api.reserve, "order-short", [(plenty, 5), (scarce, 2)])
    assert caught.value.short == {scarce: 1}
    assert inventory(kernel, plenty)[0][2] == 0 and inventory(kernel, scarce)[0][2] == 0


def test_release_and_commit_change_stock_once(kernel: Kernel) -> None:
    product_id, warehouse_id = stocked(kernel, 10)
    kernel.runner.call(api.reserve, "order-r", [(product_id, 3)])
    kernel.runner.call(api.reserve, "order-c", [(product_id, 4)])
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 7)]
    assert kernel.runner.call(api.release, "order-r") is True
    assert kernel.runner.call(api.release, "order-r") is False
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 4)]
    assert kernel.runner.call(api.commit, "order-c") is True
    assert kernel.runner.call(api.commit, "order-c") is False
    assert inventory(kernel, product_id) == [(warehouse_id, 6, 0)]
    with pytest.raises(Conflict):
        kernel.runner.call(api.commit, "order-r")  # released cannot become committed


def test_concurrent_duplicate_release_changes_stock_once(kernel: Kernel) -> None:
    product_id, warehouse_id = stocked(kernel, 10)
    kernel.runner.call(api.reserve, "order-dup", [(product_id, 5)])
    outcomes = run_concurrently(8, lambda n: kernel.runner.call(api.release, "order-dup"))
    assert outcomes == ["ok"] * 8
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 0)]


def test_reserve_is_idempotent_per_reference(kernel: Kernel) -> None:
    product_id, warehouse_id = stocked(kernel, 10)
    first = kernel.runner.call(api.reserve, "order-i", [(product_id, 2)])
    again = kernel.runner.call(api.reserve, "order-i", [(product_id, 2)])
    assert first == again
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 2)]
    with pytest.raises(Conflict):
        kernel.runner.call(api.reserve, "order-i", [(product_id, 3)])


def test_lines_split_over_warehouses_nearest_first(kernel: Kernel) -> None:
    berlin = warehouse(kernel, "Berlin", 52.52, 13.40)
    lagos = warehouse(kernel, "Lagos", 6.52, 3.37)
    item = product(kernel)["id"]
    from ecommerce.modules.catalog import stock

    kernel.runner.call(stock.set_stock, berlin, item, 3)
    kernel.runner.call(stock.set_stock, lagos, item, 5)
    near_lagos = kernel.runner.call(api.reserve, "order-near", [(item, 6)], (6.45, 3.39))
    assert [(r.warehouse_id, r.quantity) for r in near_lagos] == [(lagos, 5), (berlin, 1)]
    near_berlin = kernel.runner.call(api.reserve, "order-near-2", [(item, 2)], (52.5, 13.4))
    assert [(r.warehouse_id, r.quantity) for r in near_berlin] == [(berlin, 2)]


def test_warehouses_in_the_buyers_country_come_first(kernel: Kernel) -> None:
    from ecommerce.modules.catalog import stock

    item = product(kernel)["id"]
    home = kernel.runner.call(stock.create_warehouse, "Home", {"city": "Paris", "country": "FR"})["id"]
    away = kernel.runner.call(stock.create_warehouse, "Away", {"city": "Rome", "country": "IT"})["id"]
    kernel.runner.call(stock.set_stock, home, item, 2)
    kernel.runner.call(stock.set_stock, away, item, 50)  # fuller, but abroad
    taken = kernel.runner.call(api.reserve, "order-fr", [(item, 3)], None, "fr")
    assert [(r.warehouse_id, r.quantity) for r in taken] == [(home, 2), (away, 1)]


def test_crossing_multi_product_checkouts_do_not_deadlock(kernel: Kernel) -> None:
    a, wa = stocked(kernel, 30)
    b, wb = stocked(kernel, 30)

    def work(n: int) -> None:
        lines = [(a, 1), (b, 1)] if n % 2 else [(b, 1), (a, 1)]
        kernel.runner.call(api.reserve, f"cross-{n}", lines)

    outcomes = run_concurrently(24, work)
    assert Counter(outcomes) == {"ok": 24}
    assert inventory(kernel, a) == [(wa, 30, 24)] and inventory(kernel, b) == [(wb, 30, 24)]


def test_snapshot_in_one_query_without_deleted_products(kernel: Kernel) -> None:
    from playhouse.test_utils import count_queries

    from ecommerce.modules.catalog import products

    items = [product(kernel, price=500 + n) for n in range(5)]
    kernel.runner.call(products.delete, items[0]["id"])
    with count_queries() as counted:
        found = kernel.runner.call(api.snapshot, [i["id"] for i in items] + [999999])
    assert counted.count == 1
    assert set(found) == {i["id"] for i in items[1:]}
    assert found[items[1]["id"]].unit_price == 501


def status_of(kernel: Kernel, reference: str) -> str:
    from ecommerce.modules.catalog import reservations

    return kernel.runner.call(reservations.status, reference)


def sweep(kernel: Kernel, now: object = None) -> int:
    from ecommerce.modules.catalog import reservations

    return kernel.runner.call(reservations.expire_due, now)


def test_a_reservation_nobody_confirms_expires_at_its_deadline_once(kernel: Kernel) -> None:
    """Issue 14: a checkout that died after reserving leaves a reservation no order points to. It holds its
    units until its deadline, then the sweep gives them back — once, with several sweeps at a time."""
    import datetime

    from ecommerce.kernel.clock import utcnow

    product_id, warehouse_id = stocked(kernel, 10)
    deadline = utcnow() + datetime.timedelta(minutes=5)
    kernel.runner.call(api.reserve, "order-orphan", [(product_id, 3)], hold_until=deadline)
    kernel.runner.call(api.reserve, "order-later", [(product_id, 2)],
                       hold_until=deadline + datetime.timedelta(hours=1))
    assert sweep(kernel) == 0 and sweep(kernel, deadline - datetime.timedelta(seconds=1)) == 0
    counts: list[int] = []
    run_concurrently(6, lambda n: counts.append(sweep(kernel, deadline)))
    assert sorted(counts) == [0, 0, 0, 0, 0, 1]
    assert status_of(kernel, "order-orphan") == "expired" and status_of(kernel, "order-later") == "held"
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 2)]
    # Whoever comes later (the order's own expiry, a cancellation) finds nothing left to give back.
    assert kernel.runner.call(api.restock, "order-orphan") is False
    assert kernel.runner.call(api.release, "order-orphan") is False
    assert kernel.runner.call(api.release, "order-orphan") is False
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 2)]
    # Released after expiring (its order was cancelled): a late commit must not take units for it.
    assert status_of(kernel, "order-orphan") == "released"
    with pytest.raises(Conflict):
        kernel.runner.call(api.commit, "order-orphan")
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 2)]


def test_a_late_commit_and_a_release_of_an_expired_reservation_race_safely(kernel: Kernel) -> None:
    """A late payment's commit and the cancellation's release of one expired reservation, at once, many
    times: either the commit wins and the release is refused (the caller restocks), or the release wins
    and the commit is refused — the units are never taken for a cancelled order."""
    import datetime

    from ecommerce.kernel.clock import utcnow

    product_id, warehouse_id = stocked(kernel, 100)
    later = utcnow() + datetime.timedelta(seconds=1)
    for n in range(10):
        kernel.runner.call(api.reserve, f"race-{n}", [(product_id, 1)], hold_until=utcnow())
    assert sweep(kernel, later) == 10
    outcomes: dict[str, list[str]] = {}

    lock = threading.Lock()

    def attempt(n: int) -> None:
        reference = f"race-{n // 2}"
        call = api.commit if n % 2 else api.release
        try:
            kernel.runner.call(call, reference)
            outcome = f"{call.__name__}:ok"
        except Conflict:
            outcome = f"{call.__name__}:refused"
            if call is api.release:  # what orders' release_stock does when the reservation was committed
                kernel.runner.call(api.restock, reference)
        with lock:
            outcomes.setdefault(reference, []).append(outcome)

    assert run_concurrently(20, attempt) == ["ok"] * 20
    for reference, seen in outcomes.items():
        assert sorted(seen) in (["commit:ok", "release:refused"], ["commit:refused", "release:ok"]), reference
    assert inventory(kernel, product_id) == [(warehouse_id, 100, 0)]  # every unit back on the shelf


def test_a_reservation_without_a_deadline_gets_the_default_hold(kernel: Kernel) -> None:
    import datetime

    from ecommerce.kernel.clock import utcnow

    product_id, warehouse_id = stocked(kernel, 10)
    kernel.runner.call(api.reserve, "order-default", [(product_id, 1)])
    assert sweep(kernel, utcnow() + datetime.timedelta(minutes=29)) == 0
    assert sweep(kernel, utcnow() + datetime.timedelta(minutes=31)) == 1
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 0)]


def test_a_late_commit_of_an_expired_reservation_takes_the_units_again(kernel: Kernel) -> None:
    """The payment arrived after the sweep: commit re-takes the units from free stock (conditional updates,
    no oversell), once."""
    import datetime

    from ecommerce.kernel.clock import utcnow

    product_id, warehouse_id = stocked(kernel, 10)
    kernel.runner.call(api.reserve, "order-late", [(product_id, 4)], hold_until=utcnow())
    assert sweep(kernel, utcnow() + datetime.timedelta(seconds=1)) == 1
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 0)]
    outcomes = run_concurrently(4, lambda n: kernel.runner.call(api.commit, "order-late"))
    assert outcomes == ["ok"] * 4
    assert status_of(kernel, "order-late") == "committed"
    assert inventory(kernel, product_id) == [(warehouse_id, 6, 0)]
    assert kernel.runner.call(api.restock, "order-late") is True  # a later cancellation returns them
    assert inventory(kernel, product_id) == [(warehouse_id, 10, 0)]


def test_a_late_commit_takes_units_from_another_warehouse_or_fails_cleanly(kernel: Kernel) -> None:
    """The units the expired reservation held were partly sold: a fresh plan over every warehouse covers
    the order; when no warehouse can, InsufficientStock and nothing changes (the order gets refunded)."""
    import datetime

    from ecommerce.kernel.clock import utcnow
    from ecommerce.modules.catalog import stock

    later = utcnow() + datetime.timedelta(seconds=1)
    product_id, first = stocked(kernel, 3)
    kernel.runner.call(api.reserve, "order-moved", [(product_id, 3)], hold_until=utcnow())
    assert sweep(kernel, later) == 1
    kernel.runner.call(api.reserve, "order-other", [(product_id, 2)])  # sold meanwhile: 1 left in the first
    second = warehouse(kernel)
    kernel.runner.call(stock.set_stock, second, product_id, 5)
    assert kernel.runner.call(api.commit, "order-moved") is True
    assert inventory(kernel, product_id) == [(first, 3, 2), (second, 2, 0)]
    assert kernel.runner.call(api.restock, "order-moved") is True  # back where they were taken from
    assert inventory(kernel, product_id) == [(first, 3, 2), (second, 5, 0)]

    scarce, only = stocked(kernel, 2)
    kernel.runner.call(api.reserve, "order-gone", [(scarce, 2)], hold_until=utcnow())
    assert sweep(kernel, later) == 1
    kernel.runner.call(api.reserve, "order-thief", [(scarce, 2)])
    with pytest.raises(api.InsufficientStock) as caught:
        kernel.runner.call(api.commit, "order-gone")
    assert caught.value.short == {scarce: 2}
    assert status_of(kernel, "order-gone") == "expired"
    assert inventory(kernel, scarce) == [(only, 2, 2)]  # the thief's hold, nothing oversold
    assert kernel.runner.call(api.release, "order-gone") is False


@pytest.mark.unmigrated  # it builds the database as migration 0001 left it
def test_migration_0002_gives_reservations_held_before_it_a_deadline(settings: object, tmp_path: object) -> None:
    """An existing database: reservations held before the upgrade (orphans of old crashes among them) get
    created_at + 30 minutes, so the sweep can release them; finished ones keep no deadline."""
    import datetime
    import shutil
    from pathlib import Path

    from peewee import AutoField, CharField, DateTimeField, Model

    from ecommerce.kernel.migrations import migrate
    from ecommerce.modules.catalog import module as catalog_module
    from ecommerce.modules.catalog.models import Reservation

    assert catalog_module.migrations is not None
    kernel = Kernel(settings)  # type: ignore[arg-type]
    try:
        old = Path(str(tmp_path)) / "catalog-0001"
        old.mkdir()
        shutil.copy(catalog_module.migrations / "0001_initial.py", old)
        db = kernel.databases.get("catalog")
        migrate("catalog", db, old)

        class Before(Model):  # the table as 0001 made it
            id = AutoField()
            reference = CharField()
            status = CharField()
            created_at = DateTimeField()
            updated_at = DateTimeField()

            class Meta:
                database = db
                table_name = "reservations"

        created = datetime.datetime(2026, 1, 1, 12, 0, 0)
        with db.connection_context():
            Before.create(reference="old-held", status="held", created_at=created, updated_at=created)
            Before.create(reference="old-done", status="committed", created_at=created, updated_at=created)
        assert migrate("catalog", db, catalog_module.migrations)[0] == "module:0002_reservation_deadline"
        deadlines = kernel.runner.call(lambda: {r.reference: r.expires_at for r in Reservation.select()})
        assert deadlines == {"old-held": created + datetime.timedelta(minutes=30), "old-done": None}
        assert sweep(kernel) == 1  # the orphan's deadline passed long ago
    finally:
        kernel.close()
