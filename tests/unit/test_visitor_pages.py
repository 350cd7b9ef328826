"""The storefront's kept visitor pages: the token put in per visitor, kept only while rendered from the
very same cached objects, and a bounded number of them."""

from __future__ import annotations

from ecommerce.modules.storefront.visitor_pages import TOKEN, VisitorPages


def test_a_kept_page_carries_each_visitors_token() -> None:
    kept, detail, tree = VisitorPages(), b'{"price":1}', b"[]"
    kept.put(("product", 1), (detail, tree), f"<body data-t='{TOKEN}'><input value='{TOKEN}'></body>")
    assert kept.get(("product", 1), (detail, tree), "abc") == "<body data-t='abc'><input value='abc'></body>"
    assert kept.get(("product", 1), (detail, tree), "xyz") == "<body data-t='xyz'><input value='xyz'></body>"
    assert kept.get(("product", 2), (detail, tree), "abc") is None


def test_a_page_from_other_objects_is_rendered_again_even_when_they_are_equal() -> None:
    kept, tree = VisitorPages(), b"[]"
    detail = b'{"price":1}'
    kept.put("p", (detail, tree), "page")
    replaced = bytes(bytearray(b'{"price":1}'))  # what the cache holds after the product was written again
    assert replaced == detail and replaced is not detail
    assert kept.get("p", (replaced, tree), "t") is None
    assert kept.get("p", (detail,), "t") is None


def test_the_least_recently_served_pages_go_first() -> None:
    kept, sources = VisitorPages(size=2), (b"d", b"t")
    kept.put("a", sources, "A")
    kept.put("b", sources, "B")
    assert kept.get("a", sources, "t") == "A"  # "a" served: "b" is now the oldest
    kept.put("c", sources, "C")
    assert len(kept) == 2 and kept.get("b", sources, "t") is None and kept.get("a", sources, "t") == "A"
