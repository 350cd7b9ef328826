"""The facade functions the storefront added to other modules, called as any script would call them."""

from __future__ import annotations

import hashlib

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.pagination import PageRequest
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.catalog import caching
from ecommerce.modules.orders import api as orders
from ecommerce.modules.orders.models import idempotency
from ecommerce.modules.payments import api as payments
from ecommerce.modules.recommendations import api as recommendations
from ecommerce.modules.search import api as search
from ecommerce.modules.search import indexer
from ecommerce.modules.users import api as users
from tests.support import catalog as make
from tests.support.orders import ADDRESS, fill, shopper


def test_catalog_reads_for_pages(kernel: Kernel) -> None:
    shoes = make.category(kernel, "Running Shoes")
    brand = make.brand(kernel, "Tailspin")
    cheap, _ = make.stocked(kernel, 3, name="Trail Shoe", price=5000, category_id=shoes, brand_id=brand)
    make.stocked(kernel, 0, name="Road Shoe", price=9000, category_id=shoes)
    call = kernel.runner.call
    listed = call(catalog.listing, PageRequest(10), category="running-shoes", sort="price")
    assert [p["name"] for p in listed.items] == ["Trail Shoe", "Road Shoe"]
    assert [p["name"] for p in call(catalog.listing, PageRequest(10), brand=brand).items] == ["Trail Shoe"]
    assert [p["name"] for p in call(catalog.listing, PageRequest(10), in_stock=True, max_price=6000).items] == [
        "Trail Shoe"]
    assert {"id": brand, "name": "Tailspin"} in call(catalog.brands)
    caching.forget_everything()
    assert catalog.peek_product(cheap) is None  # nothing cached yet: the caller takes the slow path
    detail = call(catalog.product, cheap)
    call(catalog.categories)
    peeked = catalog.peek_product(cheap)
    assert peeked is not None and peeked[0] == detail and any(c["id"] == shoes for c in peeked[1])


def test_checkout_once_per_key(kernel: Kernel) -> None:
    product_id, _ = make.stocked(kernel, 5)
    user_id, address_id = shopper(kernel)
    fill(kernel, user_id, (product_id, 2))
    call = kernel.runner.call
    first = call(orders.checkout, user_id, address_id, "form-key-1")
    assert first is not None and call(orders.checkout, user_id, address_id, "form-key-1") == first
    # While the first request with a key is still running, the second is told to ask again (None).
    same_form = hashlib.sha256(f"checkout {address_id}".encode()).hexdigest()
    call(idempotency.claim, f"form:{user_id}", "form-key-2", same_form)
    assert call(orders.checkout, user_id, address_id, "form-key-2") is None
    placed = call(orders.orders_of, user_id, PageRequest(10)).items
    assert [o["id"] for o in placed] == [first]
    assert orders.customer_can_cancel(placed[0]["order_status"])
    assert orders.admin_moves("pending_payment") == ["cancelled"]
    assert orders.admin_moves("paid") == ["fulfilled", "cancelled"]
    call(orders.cancel, user_id, first)
    assert call(orders.order, None, first)["order_status"] == "cancelled"


def test_cart_quantity_zero_removes_the_line(kernel: Kernel) -> None:
    product_id, _ = make.stocked(kernel, 5, price=1500)
    user_id, _ = shopper(kernel)
    call = kernel.runner.call
    call(orders.cart_add, user_id, product_id, 1)
    assert call(orders.cart_set, user_id, product_id, 3)["total"] == 4500
    assert call(orders.cart_set, user_id, product_id, 0)["items"] == []


def test_addresses_cards_search_and_popular(kernel: Kernel) -> None:
    call = kernel.runner.call
    user = call(users.register, "facades@example.com", "facade-password-1")
    saved = call(users.add_address, user.id, dict(ADDRESS))
    assert [a.id for a in call(users.addresses_of, user.id)] == [saved.id]
    card = call(payments.save_card, user.id, "4242 4242 4242 4242", 12, 2031, "123")
    assert card["last4"] == "4242" and "number" not in card
    assert call(payments.cards, user.id) == [card]
    product_id, _ = make.stocked(kernel, 4, name="Copper Kettle")
    call(indexer.refresh, [product_id])
    hits = call(search.find, "kettle", PageRequest(5)).items
    assert [h["id"] for h in hits] == [product_id] and "<mark>" in hits[0]["highlighted_name"]
    assert [r.product.product_id for r in call(recommendations.popular, 5)] == [product_id]
