"""Answers: what to show next to a product, and what to suggest to a shopper.

Candidates come from our own tables, strongest signal first — bought together, popular in the
category, popular overall — and the catalog's own listing last (cold start), so the answer is never
empty while the catalog has a product to sell. Every candidate is checked against the catalog's facade
in one call per source: only live products with stock are shown, with the catalog's current name and
price. Each item says why it is there (``reason``) and how strong that reason is (``score``: orders).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from peewee import JOIN, fn

from ecommerce.kernel.errors import NotFound
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.recommendations.models import OrderFacts, OrderLine, Pair, ProductCategory, Sales

BOUGHT_TOGETHER, POPULAR_IN_CATEGORY, POPULAR, CATALOG = (
    "bought_together", "popular_in_category", "popular", "catalog")
REASONS = (BOUGHT_TOGETHER, POPULAR_IN_CATEGORY, POPULAR, CATALOG)
#: What each reason's ``score`` counts and where the candidates come from, in the order they are tried
#: (the recommendations page of the docs prints this table; a test keeps it equal to ``REASONS``).
EXPLAINED = {
    BOUGHT_TOGETHER: ("paid orders that held both products (for a shopper: summed over what they bought)",
                      "`recommendations_pairs`"),
    POPULAR_IN_CATEGORY: ("paid orders holding the product",
                          "`recommendations_sales` joined to `recommendations_categories` (the product's "
                          "category *now*, checked against the catalog)"),
    POPULAR: ("paid orders holding the product", "`recommendations_sales`"),
    CATALOG: ("`0`", "cold start: live products in stock, in catalog order, so the answer is never empty "
                     "while the catalog has something to sell"),
}
#: Candidates read per source for each wanted item (some may be sold out or gone from the catalog).
OVERFETCH = 3
#: The cold-start fallback reads at most this many catalog pages (of 100) looking for products in stock.
CATALOG_PAGES = 20


@dataclass(frozen=True)
class Recommendation:
    product: catalog.ProductDocument
    reason: str
    score: int


class _Picker:
    """Collects up to ``limit`` distinct, purchasable products, skipping ``exclude``."""

    def __init__(self, limit: int, exclude: Iterable[int]) -> None:
        self.limit = limit
        self.taken: set[int] = set(exclude)
        self.items: list[Recommendation] = []

    @property
    def full(self) -> bool:
        return len(self.items) >= self.limit

    def offer(self, reason: str, ranked: list[tuple[int, int]], categories: set[int] | None = None) -> None:
        """``ranked``: (product id, score), best first. ``categories``: keep only products in one of
        them *now* (our category table may lag the catalog by a relay cycle)."""
        fresh = [(pid, score) for pid, score in ranked if pid not in self.taken]
        if self.full or not fresh:
            return
        docs = {d.product_id: d for d in catalog.documents([pid for pid, _ in fresh])}
        for pid, score in fresh:
            doc = docs.get(pid)
            if doc is None or doc.available <= 0 or (categories is not None and doc.category_id not in categories):
                continue
            self.taken.add(pid)
            self.items.append(Recommendation(doc, reason, score))
            if self.full:
                return

    def fill_from_catalog(self) -> None:
        """Cold start: any live products in stock, in catalog order."""
        after = 0
        for _ in range(CATALOG_PAGES):
            if self.full:
                return
            page = catalog.documents(None, after=after, limit=100)
            if not page:
                return
            for doc in page:
                if doc.product_id not in self.taken and doc.available > 0:
                    self.taken.add(doc.product_id)
                    self.items.append(Recommendation(doc, CATALOG, 0))
                    if self.full:
                        return
            after = page[-1].product_id


def _popular(limit: int, exclude: set[int], category_ids: Iterable[int] | None = None) -> list[tuple[int, int]]:
    query = Sales.select(Sales.product_id, Sales.orders)
    if category_ids is not None:
        query = query.join(ProductCategory, on=(ProductCategory.product_id == Sales.product_id)).where(
            ProductCategory.category_id.in_(sorted(set(category_ids)))
        )
    if exclude:
        query = query.where(Sales.product_id.not_in(sorted(exclude)))
    query = query.order_by(Sales.orders.desc(), Sales.units.desc(), Sales.product_id).limit(limit)
    return [(row.product_id, row.orders) for row in query]


def for_product(product_id: int, limit: int) -> list[Recommendation]:
    """Bought together with it, then popular in its category, then popular, then the catalog."""
    found = catalog.documents([product_id])
    if not found:
        raise NotFound("No such product.")
    target = found[0]
    picker = _Picker(limit, exclude={product_id})
    wanted = limit * OVERFETCH + 1
    together = (
        Pair.select(Pair.other_id, Pair.orders)
        .where(Pair.product_id == product_id)
        .order_by(Pair.orders.desc(), Pair.other_id)
        .limit(wanted)
    )
    picker.offer(BOUGHT_TOGETHER, [(row.other_id, row.orders) for row in together])
    if target.category_id is not None:
        picker.offer(POPULAR_IN_CATEGORY, _popular(wanted, {product_id}, [target.category_id]),
                     {target.category_id})
    picker.offer(POPULAR, _popular(wanted, {product_id}))
    picker.fill_from_catalog()
    return picker.items


def purchased_by(user_id: int) -> set[int]:
    """Products in the user's paid (counted) orders."""
    rows = (
        OrderLine.select(OrderLine.product_id)
        .join(OrderFacts, JOIN.INNER, on=(OrderFacts.order_id == OrderLine.order_id))
        .where((OrderFacts.user_id == user_id) & OrderFacts.counted)
        .distinct()
    )
    return {row.product_id for row in rows}


def for_user(user_id: int, limit: int) -> list[Recommendation]:
    """Bought together with what the user bought, popular in those categories, popular, the catalog —
    never something the user already bought."""
    bought = purchased_by(user_id)
    picker = _Picker(limit, exclude=bought)
    wanted = limit * OVERFETCH  # every query below already leaves out what was bought
    if bought:
        score = fn.SUM(Pair.orders)
        together: Any = (
            Pair.select(Pair.other_id, score.alias("score"))
            .where(Pair.product_id.in_(sorted(bought)) & Pair.other_id.not_in(sorted(bought)))
            .group_by(Pair.other_id)
            .order_by(score.desc(), Pair.other_id)
            .limit(wanted)
            .tuples()
        )
        picker.offer(BOUGHT_TOGETHER, [(other_id, int(total)) for other_id, total in together])
        known: Any = ProductCategory.select(ProductCategory.category_id).where(
            ProductCategory.product_id.in_(sorted(bought)) & ProductCategory.category_id.is_null(False)
        ).tuples()
        categories: set[int] = {int(category_id) for (category_id,) in known}
        if categories:
            picker.offer(POPULAR_IN_CATEGORY, _popular(wanted, bought, categories), categories)
    picker.offer(POPULAR, _popular(wanted, bought))
    picker.fill_from_catalog()
    return picker.items
