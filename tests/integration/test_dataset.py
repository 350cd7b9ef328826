"""The benchmark dataset generator: consistent across modules, deterministic, idempotent — on every layout."""

from __future__ import annotations

from pathlib import Path

from peewee import fn

from ecommerce.devtools.dataset import PASSWORD, generate
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.lake import connect, query
from ecommerce.kernel.lake.commands import installed_schemas
from ecommerce.modules.catalog.models import Inventory, Product, Reservation, ReservationLine
from ecommerce.modules.orders.models import Order, OrderItem
from ecommerce.modules.recommendations import api as recommendations
from ecommerce.modules.recommendations.models import Sales
from ecommerce.modules.search.models import SearchDocument
from ecommerce.modules.users import api as users
from ecommerce.modules.users.models import Address, User
from tests.conftest import test_settings as settings_for


def _ids(model: type, column: object) -> set[int]:
    return {row[0] for row in model.select(column).distinct().tuples()}  # type: ignore[attr-defined]


def test_generated_dataset_is_consistent_across_modules(kernel: Kernel) -> None:
    kernel.seed(demo=True)  # generated ids go after the demo rows
    report = generate(kernel, 1, progress=False)
    assert report.counts["orders"] == 10_000 and report.counts["users"] == 2_000

    def check() -> None:
        assert _ids(Order, Order.user_id) <= _ids(User, User.id)
        assert _ids(Order, Order.address_id) <= _ids(Address, Address.id)
        assert _ids(OrderItem, OrderItem.product_id) <= _ids(Product, Product.id)
        # every order has items whose totals add up, and a reservation of the same reference
        totals = dict(OrderItem.select(OrderItem.order_id, fn.SUM(OrderItem.line_total))
                      .group_by(OrderItem.order_id).tuples())
        orders = list(Order.select(Order.id, Order.total, Order.reservation).tuples())
        assert len(totals) == len(orders) == 10_000
        assert all(totals[oid] == total for oid, total, _ in orders)
        assert {ref for _, _, ref in orders} <= {r for (r,) in Reservation.select(Reservation.reference).tuples()}
        # a held reservation has its pending order's deadline, as checkout gives it (issue 14)
        deadlines = dict(Order.select(Order.reservation, Order.expires_at)
                         .where(Order.order_status == "pending_payment").tuples())
        held_until = dict(Reservation.select(Reservation.reference, Reservation.expires_at)
                          .where(Reservation.status == "held").tuples())
        assert held_until == deadlines and None not in held_until.values()
        # what inventory says is reserved is exactly what held reservations hold
        held = dict(ReservationLine.select(ReservationLine.inventory_id, fn.SUM(ReservationLine.quantity))
                    .join(Reservation).where(Reservation.status == "held")
                    .group_by(ReservationLine.inventory_id).tuples())
        for inventory_id, quantity, reserved in Inventory.select(Inventory.id, Inventory.quantity,
                                                                 Inventory.reserved).tuples():
            assert reserved == held.get(inventory_id, 0) and quantity >= reserved
        assert SearchDocument.select().count() == Product.select().count() == 1_280

    kernel.call(check)
    assert generate(kernel, 1, progress=False).skipped  # idempotent
    newcomer = kernel.call(users.register, "newcomer@example.com", "a-long-enough-password")
    assert newcomer.id > 2_000  # sequences moved past the ids the generator wrote itself
    shopper = kernel.call(lambda: User.get(User.email == "shopper0000001@example.net"))
    assert shopper.hashed_password.startswith("$argon2") and PASSWORD


def test_same_scale_same_rows(tmp_path: Path) -> None:
    def orders(name: str) -> list[tuple[object, ...]]:
        kernel = Kernel(settings_for(tmp_path / name))
        try:
            kernel.migrate()
            generate(kernel, 1, progress=False, reindex=False)
            return kernel.call(lambda: list(
                Order.select(Order.id, Order.user_id, Order.total, Order.order_status, Order.created_at)
                .order_by(Order.id).tuples()))  # type: ignore[return-value]
        finally:
            kernel.close()

    assert orders("first") == orders("second")


def test_the_generated_orders_feed_the_lake_and_the_recommendations(kernel: Kernel) -> None:
    """``seed --scale`` writes the events its orders would have published into the lake: a rebuild then
    counts exactly the orders the orders module holds as paid and not taken back."""
    generate(kernel, 1, progress=False, reindex=False)
    assert kernel.lake is not None
    done = kernel.runner.call(recommendations.rebuild, kernel.lake)
    counted = ("paid", "fulfilled", "shipped", "delivered")  # refunded, cancelled, expired never count

    def books() -> tuple[dict[int, tuple[int, int]], int]:
        sales = (OrderItem.select(OrderItem.product_id, fn.COUNT(fn.DISTINCT(OrderItem.order_id)),
                                  fn.SUM(OrderItem.quantity))
                 .join(Order).where(Order.order_status.in_(counted)).group_by(OrderItem.product_id).tuples())
        return {p: (n, units) for p, n, units in sales}, Order.select().count()

    expected, orders = kernel.call(books)
    got = kernel.call(lambda: {p: (n, units) for p, n, units in Sales.select(
        Sales.product_id, Sales.orders, Sales.units).tuples()})
    assert got == expected and done.products == len(expected) and orders == 10_000
    statuses = kernel.call(lambda: dict(Order.select(Order.order_status, fn.COUNT(Order.id))
                                        .group_by(Order.order_status).tuples()))
    con = connect(kernel.lake.events_dir, installed_schemas())
    try:
        placed = query(con, "SELECT count(*), count(DISTINCT order_id) FROM order_placed")[1]
        refunds = query(con, "SELECT count(*) FROM payment_refunded WHERE fully_refunded")[1]
        paid = query(con, "SELECT count(*) FROM order_status_changed WHERE to_status = 'paid'")[1]
    finally:
        con.close()
    assert placed == [(10_000, 10_000)] and refunds == [(statuses["refunded"],)]
    assert paid == [(sum(statuses[s] for s in (*counted, "refunded")),)]
