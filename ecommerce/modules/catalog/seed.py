"""A realistic demo catalog for new hires: a category tree, brands, three warehouses on three
continents, and a few hundred products with believable names, descriptions, prices and stock.

Deterministic (seeded random) and idempotent: nothing is added if the demo SKUs already exist.
"""

from __future__ import annotations

import random

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.module import SeedContext
from ecommerce.modules.catalog import caching
from ecommerce.modules.catalog.events import ProductCreated
from ecommerce.modules.catalog.models import Brand, Category, Inventory, Location, Product, Warehouse, database, events
from ecommerce.modules.catalog.rules import slugify

BRANDS = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Adatum", "Litware", "Proseware", "Wingtip",
          "Woodgrove", "Lucerne", "Coho", "Fourth Coffee", "Wide World", "Alpine House", "Blue Yonder"]
WAREHOUSES = [("Berlin DC", "Berlin", "DE", 52.52, 13.40), ("Newark DC", "Newark", "US", 40.73, -74.17),
              ("Lagos DC", "Lagos", "NG", 6.52, 3.37)]
# parent -> leaf -> (noun, price range in cents, features)
CATALOG = {
    "Electronics": {
        "Laptops": ("Laptop", (49900, 289900), ["14-inch display", "16 GB RAM", "1 TB SSD", "all-day battery",
                                                 "backlit keyboard", "Thunderbolt 4"]),
        "Phones": ("Smartphone", (19900, 149900), ["OLED screen", "triple camera", "5G", "wireless charging",
                                                    "256 GB storage"]),
        "Headphones": ("Headphones", (2900, 44900), ["active noise cancelling", "30-hour battery", "USB-C",
                                                      "foldable design", "multipoint Bluetooth"]),
        "Cameras": ("Mirrorless Camera", (39900, 329900), ["full-frame sensor", "4K video", "in-body stabilisation",
                                                            "weather sealing"]),
    },
    "Home & Kitchen": {
        "Cookware": ("Frying Pan", (1900, 18900), ["cast iron", "non-stick ceramic coating", "oven-safe to 260 C",
                                                    "induction ready"]),
        "Coffee": ("Espresso Machine", (8900, 129900), ["15-bar pump", "steam wand", "built-in grinder",
                                                         "dual boiler"]),
        "Furniture": ("Desk Chair", (7900, 89900), ["lumbar support", "breathable mesh", "adjustable armrests",
                                                     "5-year warranty"]),
    },
    "Sports & Outdoors": {
        "Running Shoes": ("Running Shoe", (5900, 24900), ["carbon plate", "cushioned midsole", "reflective details",
                                                           "wide fit available"]),
        "Camping": ("Tent", (7900, 69900), ["2-person", "3-season", "1.6 kg packed", "waterproof fly"]),
        "Cycling": ("Bike Helmet", (3900, 27900), ["MIPS protection", "integrated light", "adjustable fit"]),
    },
    "Books": {
        "Software Engineering": ("Handbook", (1900, 6900), ["hardcover", "second edition", "worked examples"]),
        "Cooking": ("Cookbook", (1500, 4900), ["120 recipes", "vegetarian chapter", "photographed step by step"]),
    },
    "Clothing": {
        "Jackets": ("Rain Jacket", (4900, 34900), ["3-layer shell", "taped seams", "packable hood"]),
        "T-Shirts": ("Organic T-Shirt", (1200, 4900), ["organic cotton", "relaxed fit", "pre-shrunk"]),
    },
}
SERIES = ["Air", "Pro", "Lite", "Max", "One", "Edge", "Flex", "Nova", "Terra", "Pulse", "Vista", "Aero"]
PER_LEAF = 20


def seed(context: SeedContext) -> list[str]:
    if not context.demo or Product.select().where(Product.identification.startswith("DEMO-")).exists():
        return []
    rng = random.Random(2025)
    now = utcnow()
    with database.atomic():
        brand_ids = {}
        for name in BRANDS:
            Brand.insert(name=name, created_at=now).on_conflict_ignore().execute()
            brand_ids[name] = Brand.get(Brand.name == name).id
        warehouses = []
        for name, city, country, lat, lon in WAREHOUSES:
            existing = Warehouse.get_or_none(Warehouse.name == name)
            if existing is None:
                location = Location.create(city=city, country=country, latitude=lat, longitude=lon)
                existing = Warehouse.create(name=name, location=location.id, created_at=now)
            warehouses.append(existing.id)
        count = 0
        for parent_name, leaves in CATALOG.items():
            parent = _category(parent_name, None, now)
            for leaf_name, (noun, (low, high), features) in leaves.items():
                leaf = _category(leaf_name, parent, now)
                for n in range(PER_LEAF * max(context.scale, 1)):
                    brand = rng.choice(BRANDS)
                    series = f"{rng.choice(SERIES)} {rng.randint(2, 9)}"
                    picked = rng.sample(features, k=min(3, len(features)))
                    name = f"{brand} {series} {noun}"
                    description = (f"The {name} combines {picked[0]}, {picked[1]} and {picked[-1]}. "
                                   f"Part of the {brand} {leaf_name.lower()} range.")
                    price = rng.randrange(low, high, 100) - 1  # .99 pricing
                    count += 1
                    product = Product.create(
                        name=name, description=description, price=price, currency="USD",
                        identification=f"DEMO-{slugify(leaf_name)[:10].upper()}-{n + 1:04d}",
                        brand=brand_ids[brand], category=leaf, created_at=now, updated_at=now,
                    )
                    events.publish(ProductCreated(product_id=product.id, sku=product.identification,
                                                  product_name=product.name, price=price, currency="USD"))
                    # The first product of each category is always in stock everywhere (the README's
                    # examples reserve product 1); the rest get a realistic mix, sold-out included.
                    stock_rows = [
                        {"product": product.id, "warehouse": w,
                         "quantity": 40 if n == 0 else rng.choice([0, 3, 12, 40, 150]),
                         "reserved": 0, "updated_at": now}
                        for w in warehouses if n == 0 or rng.random() < 0.8
                    ]
                    if stock_rows:
                        Inventory.insert_many(stock_rows).execute()
    caching.forget_tree()
    return [summary(count)]


def summary(products: int = 0) -> str:
    """What the demo catalog holds, as ``seed`` prints it (the docs quote this line; a test compares them).
    Categories counted as ``GET /categories`` answers them: the departments and the leaves under them."""
    products = products or PER_LEAF * sum(len(leaves) for leaves in CATALOG.values())
    leaves = sum(len(v) for v in CATALOG.values())
    return (f"{products} products in {len(CATALOG) + leaves} categories ({len(CATALOG)} departments, {leaves} "
            f"under them), {len(BRANDS)} brands, {len(WAREHOUSES)} warehouses")


def _category(name: str, parent: int | None, now: object) -> int:
    slug = slugify(name)
    Category.insert(name=name, slug=slug, parent=parent, created_at=now).on_conflict_ignore().execute()
    return int(Category.get(Category.slug == slug).id)
