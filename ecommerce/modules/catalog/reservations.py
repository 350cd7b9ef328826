"""Reserving stock for orders without ever overselling.

``reserve(reference, lines)`` is all-or-nothing over every line and warehouse:

1. plan: for each product, take units from warehouses with free stock — those in the buyer's country
   first, then the nearest when the buyer's coordinates are known, otherwise the fullest;
2. apply the plan in a fixed order (inventory row id) with one *conditional* update per row,
   ``UPDATE inventory SET reserved = reserved + n WHERE id = ? AND quantity - reserved >= n``.
   The database re-checks the condition under the row lock, so two checkouts can never both take the
   last unit (no check-then-act), and the fixed order means two checkouts never wait on each other in
   opposite orders (no deadlock);
3. if any update finds the stock gone (a concurrent checkout won it), the whole transaction rolls back
   and the plan is made again from fresh numbers; if a plan cannot be made, nothing is reserved and
   :class:`InsufficientStock` names the short products.

``release`` and ``commit`` move a reservation from ``held`` with a conditional status update, so calling
either twice changes stock once.

A reservation holds its units only until its deadline (``expires_at``; the caller's order gets the same
one). A process can die between reserving and writing its order, leaving a reservation nobody will
confirm or release; :func:`expire_due` (the ``expire-reservations`` job) moves every reservation still
``held`` after its deadline to ``expired`` and gives its units back, with the same conditional status
update, so it agrees with a concurrent release and with other workers. A payment that arrives after that
still commits: :func:`commit` re-takes the units from free stock with the same conditional updates as
``reserve`` (never overselling), or raises :class:`InsufficientStock` when they were sold meanwhile.
Releasing or restocking an expired reservation changes no stock: its units are already back (a release
closes it as ``released``, so a late commit can no longer take units for a cancelled order).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from peewee import IntegrityError

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.kernel.statements import Statement
from ecommerce.modules.catalog import caching, stock
from ecommerce.modules.catalog.models import (
    Inventory,
    Location,
    Product,
    Reservation,
    ReservationLine,
    Warehouse,
    database,
)

MAX_ATTEMPTS = 5
T = TypeVar("T")
HELD, RELEASED, COMMITTED, RETURNED, EXPIRED = "held", "released", "committed", "returned", "expired"
#: status a reservation must be in for each move
SOURCE = {RELEASED: HELD, COMMITTED: HELD, RETURNED: COMMITTED, EXPIRED: HELD}
#: statuses in which a move has nothing left to do (a repeat, or the units are back already): a no-op
DONE = {
    RELEASED: frozenset({RELEASED, EXPIRED}),
    COMMITTED: frozenset({COMMITTED}),
    RETURNED: frozenset({RETURNED, EXPIRED}),
    EXPIRED: frozenset({RELEASED, COMMITTED, RETURNED, EXPIRED}),
}
#: how long a reservation holds its units when the caller names no deadline (checkout always does)
DEFAULT_HOLD = datetime.timedelta(minutes=30)


class InsufficientStock(Conflict):
    """Not enough free stock for at least one line; ``short`` maps product id -> units missing."""

    slug, title = "insufficient-stock", "Insufficient stock"

    def __init__(self, short: dict[int, int]) -> None:
        names = ", ".join(f"product {pid} (short by {n})" for pid, n in sorted(short.items()))
        super().__init__(f"Not enough stock for {names}.")
        self.short = short


class _Raced(Exception):
    """A planned row lost its free stock to a concurrent reservation: plan again."""


class _Expired(Exception):
    """Commit found the reservation expired: its units must be taken again."""


@dataclass(frozen=True)
class Allocation:
    product_id: int
    warehouse_id: int
    inventory_id: int
    quantity: int


def _distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


def _normalise(lines: Sequence[tuple[int, int]]) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for product_id, quantity in lines:
        if not isinstance(quantity, int) or quantity < 1:
            raise ValidationFailed("Quantities must be positive.", errors=[FieldError("quantity", "At least 1.")])
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    if not wanted:
        raise ValidationFailed("Nothing to reserve.", errors=[FieldError("lines", "At least one line.")])
    return wanted


# The statements of a reservation, compiled once (per number of products or lines where it varies): building
# them with peewee was most of reserve's CPU in a checkout (py-spy, benchmarks/http, issue 15). The
# conditional update is the same statement as before: the database still decides every race.
#: The reservation's row, or nothing when its reference is taken (reserved already, by a retry or concurrently):
#: one statement for "already reserved?" and the insert (the reference is unique; the insert waits for a
#: concurrent one's transaction and adds nothing once it committed).
_CREATE_RESERVATION = Statement(database, lambda reference, created_at, updated_at, expires_at: Reservation.insert(
    reference=reference, status=HELD, created_at=created_at, updated_at=updated_at, expires_at=expires_at,
).on_conflict_ignore().returning(Reservation.id), str, str, str, str)
_TAKE = Statement(database, lambda inventory_id, quantity, now: (
    Inventory.update(reserved=Inventory.reserved + quantity, updated_at=now)
    .where((Inventory.id == inventory_id) & (Inventory.quantity - Inventory.reserved >= quantity))
), int, int, str)
_PLANS: dict[int, Statement] = {}
_LINES: dict[int, Statement] = {}
_LINE_FIELDS = (ReservationLine.reservation, ReservationLine.product_id, ReservationLine.warehouse_id,
                ReservationLine.inventory_id, ReservationLine.quantity)


def _plan_statement(count: int) -> Statement:
    """The free stock of ``count`` products, with each warehouse's place."""
    found = _PLANS.get(count)
    if found is None:
        found = _PLANS[count] = Statement(database, lambda *ids: (
            Inventory.select(Inventory.id, Inventory.product, Inventory.warehouse, Inventory.quantity,
                             Inventory.reserved, Location.latitude, Location.longitude, Location.country)
            .join(Warehouse).join(Location)
            .switch(Inventory).join(Product)
            .where(Inventory.product.in_(list(ids)) & (Inventory.quantity > Inventory.reserved)
                   & Product.deleted_at.is_null())
        ), *([int] * count))
    return found


def _insert_lines(count: int) -> Statement:
    """``count`` reservation lines in one multi-row INSERT."""
    found = _LINES.get(count)
    if found is None:
        width = len(_LINE_FIELDS)
        found = _LINES[count] = Statement(database, lambda *values: ReservationLine.insert_many(
            [values[i:i + width] for i in range(0, len(values), width)], fields=list(_LINE_FIELDS),
        ).as_rowcount(), *([int] * (width * count)))
    return found


def _plan(wanted: dict[int, int], near: tuple[float, float] | None, country: str | None = None
          ) -> list[Allocation]:
    ids = sorted(wanted)
    rows: list[Any] = _plan_statement(len(ids)).rows(*ids)
    by_product: dict[int, list[tuple[tuple[int, float], int, int, int]]] = {}
    for inv_id, product_id, warehouse_id, quantity, reserved, lat, lon, where in rows:
        free = quantity - reserved
        if near is not None and lat is not None and lon is not None:
            distance = _distance(near[0], near[1], lat, lon)
        else:
            distance = float(-free) if near is None else math.inf
        # Same country first (no customs, shorter trip), then nearest (or fullest) warehouse.
        rank = (0 if country is None or where == country.upper() else 1, distance)
        by_product.setdefault(product_id, []).append((rank, inv_id, warehouse_id, free))
    plan: list[Allocation] = []
    short: dict[int, int] = {}
    for product_id, need in sorted(wanted.items()):
        for _rank, inv_id, warehouse_id, free in sorted(by_product.get(product_id, [])):
            if need == 0:
                break
            take = min(need, free)
            plan.append(Allocation(product_id, warehouse_id, inv_id, take))
            need -= take
        if need:
            short[product_id] = need
    if short:
        raise InsufficientStock(short)
    return plan


def _apply(reservation_id: int, plan: list[Allocation], now: datetime.datetime) -> int:
    ordered = sorted(plan, key=lambda a: a.inventory_id)  # the fixed lock order
    for alloc in ordered:
        if _TAKE.execute(alloc.inventory_id, alloc.quantity, now) != 1:
            raise _Raced()
    _insert_lines(len(ordered)).execute(*(
        value for a in ordered for value in (reservation_id, a.product_id, a.warehouse_id, a.inventory_id, a.quantity)
    ))
    stock.announce({a.product_id for a in plan})
    return reservation_id


def _existing(reference: str, wanted: dict[int, int]) -> list[Allocation]:
    reservation = Reservation.get(Reservation.reference == reference)
    lines = list(ReservationLine.select().where(ReservationLine.reservation == reservation.id))
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    if totals != wanted or reservation.status != HELD:
        raise Conflict(f"Reference {reference!r} was already used for another reservation.")
    return [Allocation(x.product_id, x.warehouse_id, x.inventory_id, x.quantity) for x in lines]


def reserve(reference: str, lines: Sequence[tuple[int, int]], near: tuple[float, float] | None = None,
            country: str | None = None, hold_until: datetime.datetime | None = None) -> list[Allocation]:
    """Hold stock for every line or for none, until ``hold_until`` (default: now + 30 minutes).
    Idempotent: the same reference and lines return the existing reservation."""
    return _reserving(lambda: None, reference, lines, near, country, hold_until)[1]


def reserve_after(first: Callable[[], T], reference: str, lines: Sequence[tuple[int, int]],
                  country: str | None = None, hold_until: datetime.datetime | None = None) -> T:
    """``first()`` (reads that decide whether to reserve: it raises to refuse), then :func:`reserve`, in one
    transaction; returns what ``first`` returned. A race retries both, so the reservation needs no savepoint
    inside the transaction (two round trips fewer on checkout's path, ADR 0015)."""
    return _reserving(first, reference, lines, None, country, hold_until)[0]


def _reserving(first: Callable[[], T], reference: str, lines: Sequence[tuple[int, int]],
               near: tuple[float, float] | None, country: str | None,
               hold_until: datetime.datetime | None) -> tuple[T, list[Allocation]]:
    deadline = hold_until or utcnow() + DEFAULT_HOLD
    for _ in range(MAX_ATTEMPTS):
        try:
            # The look-ups inside the transaction: on PostgreSQL each autocommitted read is a transaction
            # (a commit) of its own; here the whole attempt is one. The plan stays optimistic (_apply's
            # conditional updates catch a race), so no row is locked while planning.
            with database.atomic():
                found = first()
                wanted = _normalise(lines)
                now = utcnow()
                created = _CREATE_RESERVATION.rows(reference, now, now, deadline)  # undone if the plan fails
                if not created:
                    return found, _existing(reference, wanted)
                plan = _plan(wanted, near, country)
                _apply(int(created[0][0]), plan, now)
        except _Raced:
            continue
        except IntegrityError:  # the same reference, reserved concurrently
            continue
        caching.forget_products(*wanted)
        return found, plan
    raise Conflict("Stock is changing too fast; try again.")


def _finish(reference: str, to: str, due_by: datetime.datetime | None = None) -> bool:
    """Move a reservation to ``to`` with a conditional update; False (nothing changed) if there is nothing
    left to do (see :data:`DONE`), :class:`Conflict` if the move makes no sense from where it is."""
    now = utcnow()
    with database.atomic():
        condition = (Reservation.reference == reference) & (Reservation.status == SOURCE[to])
        if to == EXPIRED:
            condition &= Reservation.expires_at <= due_by
        moved = Reservation.update(status=to, updated_at=now).where(condition).execute()
        if moved != 1:
            found = Reservation.get_or_none(Reservation.reference == reference)
            if found is None:
                raise NotFound(f"No reservation {reference!r}.")
            if to == RELEASED and found.status == EXPIRED:
                return _close_expired(reference, now)
            if found.status in DONE[to] or to == EXPIRED:
                return False
            if to == COMMITTED and found.status == EXPIRED:
                raise _Expired()
            raise Conflict(f"Reservation {reference!r} is already {found.status}.")
        reservation = Reservation.get(Reservation.reference == reference)
        lines = list(
            ReservationLine.select().where(ReservationLine.reservation == reservation.id)
            .order_by(ReservationLine.inventory_id)  # the same lock order as reserve
        )
        for line in lines:
            changes: dict[str, Any] = {"updated_at": now}
            if to in (RELEASED, COMMITTED, EXPIRED):
                changes["reserved"] = Inventory.reserved - line.quantity
            if to == COMMITTED:
                changes["quantity"] = Inventory.quantity - line.quantity  # the units leave the warehouse
            if to == RETURNED:
                changes["quantity"] = Inventory.quantity + line.quantity  # back on the shelf
            Inventory.update(**changes).where(Inventory.id == line.inventory_id).execute()
        products = {line.product_id for line in lines}
        stock.announce(products)
    caching.forget_products(*products)
    return True


def _close_expired(reference: str, now: datetime.datetime) -> bool:
    """Release of an expired reservation (its order was cancelled or expired after the sweep): the units are
    back already, so stock is not touched, but the reservation moves ``expired -> released`` so that a late
    commit can no longer take units for an order that will never ship. Returns False (nothing released);
    :class:`Conflict` if a late commit won the race (the caller restocks)."""
    closed = (
        Reservation.update(status=RELEASED, updated_at=now)
        .where((Reservation.reference == reference) & (Reservation.status == EXPIRED))
        .execute()
    )
    if closed == 1:
        return False
    found = Reservation.get(Reservation.reference == reference)
    if found.status in DONE[RELEASED]:
        return False
    raise Conflict(f"Reservation {reference!r} is already {found.status}.")


def _retake(reference: str) -> bool:
    """Commit a reservation the sweep already expired (its payment arrived late).

    Its units went back to free stock, so they are taken again with the conditional update of ``reserve``
    (``quantity - reserved >= n``, in the fixed lock order): first from the rows it held, then, if those
    were sold meanwhile, from a fresh plan over every warehouse. :class:`InsufficientStock` when the free
    stock is short — then nothing changes and the caller must not ship (the order is refunded).
    """
    reservation = Reservation.get(Reservation.reference == reference)
    held = list(ReservationLine.select().where(ReservationLine.reservation == reservation.id))
    plan = [Allocation(x.product_id, x.warehouse_id, x.inventory_id, x.quantity) for x in held]
    wanted: dict[int, int] = {}
    for line in held:
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            plan = _plan(wanted, None)  # InsufficientStock when the free stock is short
        now = utcnow()
        try:
            with database.atomic():
                moved = (
                    Reservation.update(status=COMMITTED, updated_at=now)
                    .where((Reservation.id == reservation.id) & (Reservation.status == EXPIRED))
                    .execute()
                )
                if moved != 1:  # committed by a concurrent call (or moved elsewhere): decided below
                    break
                for alloc in sorted(plan, key=lambda a: a.inventory_id):  # the fixed lock order
                    taken = (
                        Inventory.update(quantity=Inventory.quantity - alloc.quantity, updated_at=now)
                        .where((Inventory.id == alloc.inventory_id)
                               & (Inventory.quantity - Inventory.reserved >= alloc.quantity))
                        .execute()
                    )
                    if taken != 1:
                        raise _Raced()
                if attempt:  # the units come from other rows now: restock must return them there
                    ReservationLine.delete().where(ReservationLine.reservation == reservation.id).execute()
                    ReservationLine.insert_many([
                        {"reservation": reservation.id, "product_id": a.product_id, "warehouse_id": a.warehouse_id,
                         "inventory_id": a.inventory_id, "quantity": a.quantity} for a in plan
                    ]).execute()
                stock.announce(set(wanted))
        except _Raced:
            continue
        caching.forget_products(*wanted)
        return True
    else:
        raise Conflict("Stock is changing too fast; try again.")
    status_now = Reservation.get_by_id(reservation.id).status
    if status_now == COMMITTED:
        return False
    raise Conflict(f"Reservation {reference!r} is already {status_now}.")


def release(reference: str) -> bool:
    """Give held units back (order cancelled or expired). True if this call released them."""
    return _finish(reference, RELEASED)


def commit(reference: str) -> bool:
    """The order was paid: held units leave stock for good. True if this call committed them.

    An expired reservation (the payment arrived after its deadline) takes its units again, or raises
    :class:`InsufficientStock` if they were sold meanwhile."""
    try:
        return _finish(reference, COMMITTED)
    except _Expired:
        return _retake(reference)


def restock(reference: str) -> bool:
    """A paid order was cancelled before shipping: its committed units go back to stock. True if this
    call returned them (an expired reservation has nothing to return)."""
    return _finish(reference, RETURNED)


def expire_due(now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Expire reservations still held after their deadline and give their units back; returns how many.

    The repair for a process that died between reserving and writing its order (nobody else will ever
    release that reservation). Safe in several workers at once and next to the orders' own expiry: each
    reservation is claimed by the conditional ``held -> expired`` update, so exactly one caller (this
    sweep, another one, or a release for a cancelled or expired order) gives its units back.
    """
    moment = now or utcnow()
    due = [
        row.reference for row in
        Reservation.select(Reservation.reference)
        .where((Reservation.status == HELD) & (Reservation.expires_at <= moment))
        .order_by(Reservation.expires_at)
        .limit(batch)
    ]
    return sum(1 for reference in due if _finish(reference, EXPIRED, moment))


def status(reference: str) -> str:
    found = Reservation.get_or_none(Reservation.reference == reference)
    if found is None:
        raise NotFound(f"No reservation {reference!r}.")
    return str(found.status)
