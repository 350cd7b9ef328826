"""The catalog facade's contract: the same assertions in-process and over HTTP (a live catalog service).

What a caller in another service relies on: DTOs of the same classes and values, the same exceptions
with the same attributes (``InsufficientStock.short``), and idempotent calls keyed by their reference.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from ecommerce.kernel.errors import Conflict, ValidationFailed
from ecommerce.modules.catalog import api as catalog
from tests.support.catalog import category, stocked
from tests.support.live_server import LiveServer
from tests.support.processes import free_port
from tests.support.remote import ADAPTERS, Facade, routed

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(params=ADAPTERS)
def call(request: pytest.FixtureRequest, live: LiveServer) -> Iterator[Facade]:
    with routed("catalog", request.param, live) as facade:
        yield facade


def test_snapshot_returns_the_same_dtos_keyed_by_int_ids(call: Facade) -> None:
    pid, _ = stocked(call.kernel, 5, price=1234)
    found = call(catalog.snapshot, [pid, 999_999])
    assert list(found) == [pid]
    snap = found[pid]
    assert isinstance(snap, catalog.ProductSnapshot)
    assert (snap.product_id, snap.unit_price, snap.currency, snap.available) == (pid, 1234, "USD", 5)


def test_documents_and_category_ids(call: Facade) -> None:
    parent = category(call.kernel, "Contract parent")
    child = category(call.kernel, "Contract child", parent)
    assert sorted(call(catalog.category_ids, str(parent))) == sorted([parent, child])
    pid, _ = stocked(call.kernel, 1, category_id=child)
    [document] = call(catalog.documents, [pid])
    assert isinstance(document, catalog.ProductDocument) and document.category_id == child


def test_an_unknown_category_raises_the_same_error(call: Facade) -> None:
    with pytest.raises(ValidationFailed):
        call(catalog.category_ids, "no-such-category-slug")


def test_reserve_is_idempotent_per_reference_and_release_returns_the_units(call: Facade) -> None:
    pid, wid = stocked(call.kernel, 3)
    until = datetime.datetime(2099, 1, 1)
    first = call(catalog.reserve, "contract-1", [(pid, 2)], hold_until=until)
    assert first == [catalog.Reserved(pid, wid, 2)] and isinstance(first[0], catalog.Reserved)
    assert call(catalog.reserve, "contract-1", [(pid, 2)], hold_until=until) == first  # a retry holds no more
    assert call(catalog.snapshot, [pid])[pid].available == 1
    assert call(catalog.release, "contract-1") is True
    assert call(catalog.release, "contract-1") is False
    assert call(catalog.snapshot, [pid])[pid].available == 3


def test_insufficient_stock_arrives_as_itself_with_its_short_lines(call: Facade) -> None:
    pid, _ = stocked(call.kernel, 1)
    with pytest.raises(catalog.InsufficientStock) as caught:
        call(catalog.reserve, "contract-short", [(pid, 3)])
    assert caught.value.short == {pid: 2}
    assert caught.value.status == 409 and "short by 2" in caught.value.detail
    assert call(catalog.snapshot, [pid])[pid].available == 1  # all or nothing


def test_commit_then_restock(call: Facade) -> None:
    pid, _ = stocked(call.kernel, 2)
    call(catalog.reserve, "contract-paid", [(pid, 2)])
    assert call(catalog.commit, "contract-paid") is True
    assert call(catalog.commit, "contract-paid") is False
    assert call(catalog.snapshot, [pid])[pid].available == 0
    with pytest.raises(Conflict) as caught:  # not held any more: what orders' release_stock relies on
        call(catalog.release, "contract-paid")
    assert "already committed" in caught.value.detail
    assert call(catalog.restock, "contract-paid") is True
    assert call(catalog.snapshot, [pid])[pid].available == 2


def test_reserve_priced_holds_nothing_when_the_caller_refuses_the_prices(call: Facade) -> None:
    pid, _ = stocked(call.kernel, 4, price=500)

    def refuse(prices: dict[int, catalog.ProductSnapshot]) -> None:
        assert prices[pid].unit_price == 500
        raise ValidationFailed("refused")

    with pytest.raises(ValidationFailed):
        call(catalog.reserve_priced, "contract-refused", [(pid, 1)], refuse)
    assert call(catalog.snapshot, [pid])[pid].available == 4
    prices = call(catalog.reserve_priced, "contract-priced", [(pid, 3)], lambda found: None)
    assert prices[pid].unit_price == 500 and call(catalog.snapshot, [pid])[pid].available == 1



def test_an_instance_that_refuses_is_skipped_even_for_a_call_made_once(live: LiveServer) -> None:
    """The catalog service as two instances, the first one down: every call, ``reserve`` (not retried:
    not idempotent over HTTP) included, reaches the live one, whichever instance's turn it is."""
    dead = f"http://127.0.0.1:{free_port()}"
    with routed("catalog", "http", live, retries=0, before=(dead,)) as call:
        pid, _ = stocked(call.kernel, 4)
        until = datetime.datetime(2099, 1, 1)
        for n in range(3):
            assert call(catalog.reserve, f"two-instances-{n}", [(pid, 1)], hold_until=until)[0].quantity == 1
        assert call(catalog.snapshot, [pid])[pid].available == 1
