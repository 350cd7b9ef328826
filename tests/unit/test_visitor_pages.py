"""The storefront's kept visitor pages: kept only while rendered from the very same cached objects, and a
bounded number of them."""

from __future__ import annotations

from ecommerce.modules.storefront.visitor_pages import VisitorPages


def test_a_page_is_kept_for_the_objects_it_was_rendered_from() -> None:
    kept, detail, tree = VisitorPages(), b'{"price":1}', b"[]"
    kept.put(("product", 1), (detail, tree), b"<p>page</p>")
    assert kept.get(("product", 1), (detail, tree)) == b"<p>page</p>"
    assert kept.get(("product", 2), (detail, tree)) is None


def test_a_page_from_other_objects_is_rendered_again_even_when_they_are_equal() -> None:
    kept, tree = VisitorPages(), b"[]"
    detail = b'{"price":1}'
    kept.put("p", (detail, tree), b"page")
    replaced = bytes(bytearray(b'{"price":1}'))  # what the cache holds after the product was written again
    assert replaced == detail and replaced is not detail
    assert kept.get("p", (replaced, tree)) is None
    assert kept.get("p", (detail,)) is None


def test_the_least_recently_served_pages_go_first() -> None:
    kept, sources = VisitorPages(size=2), (b"d", b"t")
    kept.put("a", sources, b"A")
    kept.put("b", sources, b"B")
    assert kept.get("a", sources) == b"A"  # "a" served: "b" is now the oldest
    kept.put("c", sources, b"C")
    assert len(kept) == 2 and kept.get("b", sources) is None and kept.get("a", sources) == b"A"
