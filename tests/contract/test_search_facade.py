"""The search facade's contract: the same assertions in-process and over HTTP (a live search service).

What a page or a script on another service relies on: ``find`` answers a :class:`Page` of the same hit
dicts ``GET /search`` shows (highlights already escaped), its cursor continues over either adapter, and
bad input (no word, an unknown category, a forged cursor) arrives as the same ``ValidationFailed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ecommerce.kernel.errors import ValidationFailed
from ecommerce.kernel.pagination import Page, PageRequest, decode_cursor
from ecommerce.modules.search import api as search
from tests.support.catalog import brand, category, product, stocked
from tests.support.live_server import LiveServer
from tests.support.remote import ADAPTERS, Facade, routed

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(params=ADAPTERS)
def call(request: pytest.FixtureRequest, live: LiveServer) -> Iterator[Facade]:
    with routed("search", request.param, live) as facade:
        yield facade


def ids(page: Page[dict[str, Any]]) -> list[int]:
    return [hit["id"] for hit in page.items]


def test_find_answers_the_ranked_hits_of_the_public_search(call: Facade, client: httpx.Client) -> None:
    in_text = product(call.kernel, name="Trail Companion", description="A sturdy kettle for the campsite")["id"]
    in_name = product(call.kernel, name="Kettle Deluxe", description="Boils water fast", price=4200)["id"]
    call.kernel.relay_until_idle()  # the index follows the catalog's events
    page = call(search.find, "kettle", PageRequest(5))
    assert isinstance(page, Page) and page.next_cursor is None
    assert ids(page) == [in_name, in_text]
    first = page.items[0]
    assert (first["name"], first["price"], first["currency"]) == ("Kettle Deluxe", 4200, "USD")
    assert first["highlighted_name"] == "<mark>Kettle</mark> Deluxe"
    assert "<mark>kettle</mark>" in page.items[1]["snippet"].lower()
    assert isinstance(first["score"], float)
    public = client.get("/api/v1/search", params={"q": "kettle", "limit": 5})
    assert public.status_code == 200, public.text
    assert [{k: v for k, v in hit.items() if k != "score"} for hit in public.json()["items"]] == [
        {k: v for k, v in hit.items() if k != "score"} for hit in page.items]


def test_filters_narrow_the_hits(call: Facade) -> None:
    k = call.kernel
    tools, maker = category(k, "Contract Tools"), brand(k, "Contract Forge")
    cheap, _ = stocked(k, 3, name="Hammer basic", price=500, category_id=tools, brand_id=maker)
    dear = product(k, name="Hammer pro", price=5000, category_id=tools)["id"]
    other = product(k, name="Hammer toy", price=700)["id"]
    k.relay_until_idle()
    assert set(ids(call(search.find, "hammer", PageRequest(10)))) == {cheap, dear, other}
    assert set(ids(call(search.find, "hammer", PageRequest(10), category="contract-tools"))) == {cheap, dear}
    assert set(ids(call(search.find, "hammer", PageRequest(10), category=str(tools)))) == {cheap, dear}
    assert ids(call(search.find, "hammer", PageRequest(10), brand=maker)) == [cheap]
    assert ids(call(search.find, "hammer", PageRequest(10), in_stock=True)) == [cheap]
    assert ids(call(search.find, "hammer", PageRequest(10), min_price=600, max_price=800)) == [other]
    assert ids(call(search.find, "hammer", PageRequest(10), min_price=6000)) == []


def test_the_cursor_of_one_page_continues_on_the_next(call: Facade) -> None:
    made = {product(call.kernel, name=f"Lantern {n}")["id"] for n in range(5)}
    call.kernel.relay_until_idle()
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(5):
        page = call(search.find, "lantern", PageRequest(2, decode_cursor(cursor) if cursor else None))
        assert len(page.items) <= 2
        seen += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert cursor is None and sorted(seen) == sorted(made) and len(seen) == len(made)


def test_bad_input_raises_the_same_errors(call: Facade) -> None:
    product(call.kernel, name="Anvil")
    call.kernel.relay_until_idle()
    with pytest.raises(ValidationFailed) as caught:
        call(search.find, " -- !! ", PageRequest(5))
    assert caught.value.status == 400 and [e.field for e in caught.value.errors] == ["q"]
    with pytest.raises(ValidationFailed):
        call(search.find, "anvil", PageRequest(5), category="no-such-category-slug")
    with pytest.raises(ValidationFailed) as forged:
        call(search.find, "anvil", PageRequest(5, {"v": "not a score", "id": 1}))
    assert [e.field for e in forged.value.errors] == ["cursor"]
    assert len(call(search.find, "anvil", PageRequest(5)).items) == 1  # nothing above broke the index
