"""A deterministic, realistic dataset at a scale factor, written module by module.

Each module's tables go through that module's own database (they may be different files or schemas),
so the data is consistent across modules the way the running system would have made it:

- users (one shared password, hashed once) with 1-2 addresses each;
- the demo category tree, brands and warehouses plus generated products (popularity is skewed: a few
  products sell a lot), stocked in a random subset of warehouses;
- orders over the 24 months before ``ANCHOR`` (a few customers order a lot), each with 1-5 items priced
  from the catalog, its shipping-address snapshot, and a catalog reservation in the state the order
  implies (held while unpaid, committed once paid, released when cancelled or expired; a refunded order
  was refunded after fulfilment, so its units left and stay committed); ``inventory.reserved`` is exactly
  what the held reservations hold;
- the search index rebuilt from the catalog at the end;
- the events those orders would have published, written straight into the data lake's JSON lines
  (``events.py``; unless the lake is off), so a recommendations rebuild and the lake's queries see them.

Same scale, same rows (seeded random, fixed anchor date). The generator refuses to run twice on the same
database (``ecommerce seed --scale N`` is idempotent); start from an empty database to change scale.
"""

from __future__ import annotations

import datetime
import json
import random
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from peewee import Database
from tqdm import tqdm

from ecommerce.devtools.dataset import vocabulary as words
from ecommerce.devtools.dataset.bulk import BulkWriter
from ecommerce.devtools.dataset.events import order_events
from ecommerce.devtools.dataset.sizes import ANCHOR, MONTHS_OF_ORDERS, SEED, Sizes
from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.events.lake import EventLake, LakeRecord
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.modules.catalog.models import Brand, Category, Location, Warehouse
from ecommerce.modules.catalog.rules import slugify
from ecommerce.modules.catalog.seed import BRANDS, CATALOG, SERIES, WAREHOUSES
from ecommerce.modules.search import indexer
from ecommerce.modules.users.models import User

PASSWORD = "shopper-password-123"
EMAIL_DOMAIN = "example.net"
CHUNK = 5_000
# order status -> (share, payment status, reservation status)
STATUSES = {
    "delivered": (0.68, "paid", "committed"), "shipped": (0.05, "paid", "committed"),
    "fulfilled": (0.03, "paid", "committed"), "paid": (0.05, "paid", "committed"),
    "pending_payment": (0.03, "unpaid", "held"), "cancelled": (0.07, "unpaid", "released"),
    "expired": (0.05, "unpaid", "released"), "refunded": (0.04, "refunded", "committed"),
}

USER_COLUMNS = ("id", "email", "phone", "hashed_password", "status", "role", "created_at", "updated_at")
ADDRESS_COLUMNS = ("id", "user_id", "street", "city", "state", "postal_code", "country", "created_at", "updated_at")
PRODUCT_COLUMNS = ("id", "name", "description", "price", "currency", "identification", "brand_id", "category_id",
                   "created_at", "updated_at", "deleted_at")
INVENTORY_COLUMNS = ("id", "product_id", "warehouse_id", "quantity", "reserved", "updated_at")
RESERVATION_COLUMNS = ("id", "reference", "status", "created_at", "updated_at", "expires_at")
LINE_COLUMNS = ("id", "reservation_id", "product_id", "warehouse_id", "inventory_id", "quantity")
ORDER_COLUMNS = ("id", "user_id", "address_id", "order_status", "payment_status", "currency", "subtotal", "total",
                 "item_count", "shipping_address", "reservation", "created_at", "updated_at", "expires_at")
ITEM_COLUMNS = ("id", "order_id", "product_id", "product_name", "sku", "unit_price", "quantity", "line_total")


@dataclass
class Report:
    scale: int
    counts: dict[str, int] = field(default_factory=dict)
    skipped: bool = False

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"a generated dataset is already here (users @{EMAIL_DOMAIN}); nothing added"]
        return [f"scale {self.scale}: " + ", ".join(f"{n} {table}" for table, n in self.counts.items())]


@dataclass
class _Product:
    id: int
    name: str
    sku: str
    price: int
    stock: list[tuple[int, int]]  # (inventory id, warehouse id)


@dataclass
class _Customer:
    id: int
    addresses: list[tuple[int, dict[str, object]]]


def already_generated(kernel: Kernel) -> bool:
    with kernel.databases.get("users").connection_context():
        return bool(User.select().where(User.email.endswith(f"@{EMAIL_DOMAIN}")).exists())


def generate(kernel: Kernel, scale: int, *, progress: bool = True, reindex: bool = True) -> Report:
    """Write the dataset for ``scale`` into the kernel's (migrated) databases."""
    sizes = Sizes.for_scale(scale)
    report = Report(scale)
    if already_generated(kernel):
        report.skipped = True
        return report
    tqdm.set_lock(threading.RLock())  # see ecommerce.cli._bar: no multiprocessing lock
    bar = _bars(progress)
    rng = random.Random(SEED + scale)
    users = BulkWriter(kernel.databases.get("users"))
    catalog = BulkWriter(kernel.databases.get("catalog"))
    orders = BulkWriter(kernel.databases.get("orders"))
    customers = _users(users, sizes, rng, report, bar)
    products = _catalog(catalog, sizes, rng, report, bar)
    _orders(orders, catalog, sizes, rng, customers, products, report, bar, kernel.lake)
    users.analyze("users", "addresses")
    catalog.analyze("product", "inventory", "reservations", "reservation_lines")
    orders.analyze("orders", "order_items")
    if reindex and "search" in kernel.registry.names():
        with bar("search index", 0) as b:
            def advance(count: int) -> None:
                b.update(count)

            kernel.runner.call(indexer.reindex, advance)
        BulkWriter(kernel.databases.get("search")).analyze("search_documents")
    return report


def _bars(enabled: bool) -> Callable[[str, int], tqdm]:
    def make(desc: str, total: int) -> tqdm:
        return tqdm(desc=f"{desc:<14}", total=total or None, unit="row", unit_scale=True, file=sys.stderr,
                    disable=not enabled, leave=True)

    return make


def _at(rng: random.Random, start: datetime.datetime, end: datetime.datetime) -> datetime.datetime:
    return start + datetime.timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


def _chunks(total: int) -> Iterator[range]:
    for start in range(0, total, CHUNK):
        yield range(start, min(start + CHUNK, total))


def _users(w: BulkWriter, sizes: Sizes, rng: random.Random, report: Report,
           bar: Callable[[str, int], tqdm]) -> list[_Customer]:
    hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with w.db.connection_context():
        user_id, address_id = w.max_id("users"), w.max_id("addresses")
    first_address = address_id
    since, until = ANCHOR - datetime.timedelta(days=3 * 365), ANCHOR - datetime.timedelta(days=2 * 365)
    customers: list[_Customer] = []
    with bar("users", sizes.users) as b:
        for chunk in _chunks(sizes.users):
            user_rows, address_rows = [], []
            for n in chunk:
                user_id += 1
                created = _at(rng, since, until)
                phone = f"+1555{rng.randrange(10**7):07d}" if rng.random() < 0.5 else None
                user_rows.append((user_id, f"shopper{n + 1:07d}@{EMAIL_DOMAIN}", phone, hashed, "active",
                                  "customer", created, created))
                customer = _Customer(user_id, [])
                for _ in range(1 if rng.random() < 0.6 else 2):
                    address_id += 1
                    city, state, country, pattern = rng.choice(words.CITIES)
                    street = f"{rng.randint(1, 999)} {rng.choice(words.STREETS)} {rng.choice(words.SUFFIXES)}"
                    postal = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in pattern)
                    address_rows.append((address_id, user_id, street, city, state, postal, country, created, created))
                    customer.addresses.append((address_id, {"id": address_id, "street": street, "city": city,
                                                            "state": state, "postal_code": postal,
                                                            "country": country}))
                customers.append(customer)
            w.load(("users", USER_COLUMNS, user_rows), ("addresses", ADDRESS_COLUMNS, address_rows))
            b.update(len(chunk))
        w.fix_sequences("users", "addresses")
    report.counts["users"] = sizes.users
    report.counts["addresses"] = address_id - first_address
    return customers


def _taxonomy(db: Database) -> tuple[list[tuple[int, str, str, tuple[int, int], list[str]]], list[tuple[int, str]],
                                     list[int]]:
    """The demo tree, brands and warehouses (created if missing, by natural key) plus extra ones."""
    now = ANCHOR - datetime.timedelta(days=3 * 365)
    leaves = []
    with db.atomic():
        for parent_name, children in CATALOG.items():
            Category.insert(name=parent_name, slug=slugify(parent_name), created_at=now).on_conflict_ignore().execute()
            parent = Category.get(Category.slug == slugify(parent_name)).id
            for leaf_name, (noun, prices, features) in children.items():
                Category.insert(name=leaf_name, slug=slugify(leaf_name), parent=parent,
                                created_at=now).on_conflict_ignore().execute()
                leaves.append((Category.get(Category.slug == slugify(leaf_name)).id, leaf_name, noun, prices, features))
        brands = []
        for name in [*BRANDS, *words.EXTRA_BRANDS]:
            Brand.insert(name=name, created_at=now).on_conflict_ignore().execute()
            brands.append((Brand.get(Brand.name == name).id, name))
        warehouses = []
        for name, city, country, lat, lon in [*WAREHOUSES, *words.EXTRA_WAREHOUSES]:
            found = Warehouse.get_or_none(Warehouse.name == name)
            if found is None:
                location = Location.create(city=city, country=country, latitude=lat, longitude=lon)
                found = Warehouse.create(name=name, location=location.id, created_at=now)
            warehouses.append(int(found.id))
    return leaves, brands, warehouses


def _description(rng: random.Random, name: str, leaf: str, features: list[str]) -> str:
    picked = rng.sample(features, k=min(3, len(features)))
    text = (f"The {name} is a {rng.choice(words.ADJECTIVES)} pick that combines {picked[0]}, {picked[1]} "
            f"and {picked[-1]}. Part of the {leaf.lower()} range.")
    if rng.random() < words.COMMON_SHARE:
        text += f" Covered by a {rng.choice([1, 2, 3, 5])}-year {words.COMMON_TERM}."
    if rng.random() < words.RARE_SHARE:
        text += f" Built on a {words.RARE_TERM} frame."
    return text


def _catalog(w: BulkWriter, sizes: Sizes, rng: random.Random, report: Report,
             bar: Callable[[str, int], tqdm]) -> list[_Product]:
    with w.db.connection_context():
        leaves, brands, warehouses = _taxonomy(w.db)
        product_id, inventory_id = w.max_id("product"), w.max_id("inventory")
    created = ANCHOR - datetime.timedelta(days=3 * 365)
    products: list[_Product] = []
    with bar("products", sizes.products) as b:
        for chunk in _chunks(sizes.products):
            rows = []
            for n in chunk:
                product_id += 1
                category_id, leaf, noun, (low, high), features = rng.choice(leaves)
                brand_id, brand = rng.choice(brands)
                name = f"{brand} {rng.choice(SERIES)} {rng.randint(2, 99)} {noun}"
                price = rng.randrange(low, high, 100) - 1
                sku = f"GEN-{n + 1:07d}"
                rows.append((product_id, name, _description(rng, name, leaf, features), price, "USD", sku, brand_id,
                             category_id, created, created, None))
                stocked = [wid for wid in warehouses if rng.random() < 0.6] or [rng.choice(warehouses)]
                stock = []
                for wid in stocked:
                    inventory_id += 1
                    stock.append((inventory_id, wid))
                products.append(_Product(product_id, name, sku, price, stock))
            w.load(("product", PRODUCT_COLUMNS, rows))
            b.update(len(chunk))
        w.fix_sequences("product")
    report.counts["products"] = sizes.products
    return products


def _orders(w: BulkWriter, catalog: BulkWriter, sizes: Sizes, rng: random.Random, customers: list[_Customer],
            products: list[_Product], report: Report, bar: Callable[[str, int], tqdm],
            lake: EventLake | None = None) -> None:
    with w.db.connection_context():
        order_id, item_id = w.max_id("orders"), w.max_id("order_items")
    first_item = item_id
    with catalog.db.connection_context():
        reservation_id, line_id = catalog.max_id("reservations"), catalog.max_id("reservation_lines")
    # Skewed popularity (Zipf-like): a handful of customers and products account for much of the volume.
    user_weights = _zipf_weights(len(customers), 0.7)
    product_weights = _zipf_weights(len(products), 0.9)
    shuffled = products[:]
    rng.shuffle(shuffled)  # the popular products are spread over categories and ids
    statuses = list(STATUSES)
    status_weights = [STATUSES[s][0] for s in statuses]
    start = ANCHOR - datetime.timedelta(days=MONTHS_OF_ORDERS * 30.44)
    held: dict[int, int] = {}  # inventory id -> quantity held by unpaid orders
    logged = 0
    with bar("orders", sizes.orders) as b:
        for chunk in _chunks(sizes.orders):
            order_rows, item_rows, reservation_rows, line_rows = [], [], [], []
            events: list[LakeRecord] = []
            buyers = rng.choices(customers, cum_weights=user_weights, k=len(chunk))
            moments = sorted(_at(rng, start, ANCHOR) for _ in chunk)  # ids grow with time, as in production
            for customer, created in zip(buyers, moments, strict=True):
                order_id += 1
                reservation_id += 1
                status = rng.choices(statuses, weights=status_weights)[0]
                _, payment, reservation_status = STATUSES[status]
                address_id, address = rng.choice(customer.addresses)
                picked = {p.id: p for p in rng.choices(shuffled, cum_weights=product_weights, k=rng.randint(1, 5))}
                subtotal = count = 0
                event_lines = []
                for product in picked.values():
                    item_id += 1
                    line_id += 1
                    quantity = 1 if rng.random() < 0.75 else rng.randint(2, 4)
                    item_rows.append((item_id, order_id, product.id, product.name, product.sku, product.price,
                                      quantity, product.price * quantity))
                    inventory_id, warehouse_id = rng.choice(product.stock)
                    line_rows.append((line_id, reservation_id, product.id, warehouse_id, inventory_id, quantity))
                    if reservation_status == "held":
                        held[inventory_id] = held.get(inventory_id, 0) + quantity
                    subtotal += product.price * quantity
                    event_lines.append({"product_id": product.id, "quantity": quantity, "unit_price": product.price})
                    count += quantity
                updated = created + datetime.timedelta(hours=rng.randint(1, 240)) if status != "pending_payment" \
                    else created
                reference = f"order-gen-{order_id}"
                expires = created + datetime.timedelta(minutes=30) if status == "pending_payment" else None
                order_rows.append((order_id, customer.id, address_id, status, payment, "USD", subtotal, subtotal,
                                   count, json.dumps(address), reference, created, updated, expires))
                reservation_rows.append((reservation_id, reference, reservation_status, created, updated, expires))
                if lake is not None:
                    events += order_events(order_id, customer.id, status, subtotal, "USD", event_lines,
                                           created, updated)
            w.load(("orders", ORDER_COLUMNS, order_rows), ("order_items", ITEM_COLUMNS, item_rows))
            catalog.load(("reservations", RESERVATION_COLUMNS, reservation_rows),
                         ("reservation_lines", LINE_COLUMNS, line_rows))
            if lake is not None:
                logged += lake.append_many(events)
            b.update(len(chunk))
    w.fix_sequences("orders", "order_items")
    _inventory(catalog, rng, products, held)
    report.counts.update({"inventory rows": sum(len(p.stock) for p in products), "orders": sizes.orders,
                          "order items": item_id - first_item, "reservations": sizes.orders})
    if lake is not None:
        report.counts["lake events"] = logged


def _inventory(w: BulkWriter, rng: random.Random, products: list[_Product], held: dict[int, int]) -> None:
    """Stock on hand: what unpaid orders hold plus a realistic amount still for sale (some sold out)."""
    rows = []
    for product in products:
        for inventory_id, warehouse_id in product.stock:
            reserved = held.get(inventory_id, 0)
            free = 0 if rng.random() < 0.08 else rng.choice([2, 5, 12, 40, 120, 400])
            rows.append((inventory_id, product.id, warehouse_id, reserved + free, reserved, ANCHOR))
    w.load(("inventory", INVENTORY_COLUMNS, rows))
    w.fix_sequences("inventory", "reservations", "reservation_lines")


def _zipf_weights(n: int, exponent: float) -> list[float]:
    """Cumulative weights for ``random.choices``: item k (0-based) is chosen in proportion to 1/(k+1)^s."""
    total, out = 0.0, []
    for k in range(n):
        total += 1.0 / (k + 1) ** exponent
        out.append(total)
    return out
