"""One suite, both document stores: the embedded SQL store (SQLite and PostgreSQL) and Redis.

Whatever the store, the contract is the same: create-if-absent is atomic (threads racing on one id
store it once), the feed is newest first with a keyset cursor that survives ties, only the recipient
can mark a document read, a claim has exactly one winner, only the claim's holder records the outcome,
and documents past the retention period disappear.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.registry import discover
from ecommerce.modules.notifications import settings as notification_settings
from ecommerce.modules.notifications.documents import (
    FAILED,
    PENDING,
    SENT,
    DocumentStore,
    Notification,
    Outcome,
    Position,
    document_id,
)
from tests.conftest import EXTRA_MODULES
from tests.conftest import test_settings as settings_for
from tests.support import databases
from tests.support.services import isolated_namespace, require_redis

STORES = ("sql-sqlite", "sql-postgres", "redis")


@pytest.fixture(params=STORES)
def store_kernel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kernel]:
    """A kernel with the users and notifications modules, its store chosen by the parameter."""
    kind: str = request.param
    stack = contextlib.ExitStack()
    if kind == "sql-postgres":
        request.applymarker(pytest.mark.postgres)
        url: str = request.getfixturevalue("postgres_url")
        databases.reset_schemas(url, [*discover(), *EXTRA_MODULES])
        settings = settings_for(tmp_path / "data", database_url=url)
    elif kind == "redis":
        namespace = stack.enter_context(isolated_namespace())
        settings = settings_for(tmp_path / "data", redis_url=require_redis(), rate_limit_namespace=namespace)
    else:
        settings = settings_for(tmp_path / "data")
    kernel = Kernel(settings, {"users": discover()["users"], "notifications": discover()["notifications"]})
    kernel.migrate()
    with stack:
        try:
            yield kernel
        finally:
            kernel.close()


@pytest.fixture
def store(store_kernel: Kernel) -> DocumentStore:
    return notification_settings.get().store


def doc(recipient: int = 1, created: datetime.datetime | None = None, event: str | None = None,
        template: str = "order_placed", due: bool = True) -> Notification:
    event_id = event or str(uuid.uuid4())
    moment = created or utcnow()
    return Notification(
        id=document_id(event_id, template), event_id=event_id, template=template, recipient_id=recipient,
        recipient_email=f"user{recipient}@example.com", channel="email", subject=f"Subject {event_id[:8]}",
        body="Body with ünïcode and a\nsecond line", created_at=moment, due_at=moment if due else None,
    )


def in_threads(kernel: Kernel, count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at once (each returns its connections, as in the app)."""
    results: list[Any] = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        results[i] = kernel.runner.call(work, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_put_if_absent_stores_once_and_reads_back(store: DocumentStore) -> None:
    first = doc()
    assert store.put_if_absent(first) is True
    assert store.put_if_absent(doc(event=first.event_id)) is False  # same event + template: same id
    found = store.get(first.id)
    assert found == first
    assert store.get(str(uuid.uuid4())) is None
    other_template = doc(event=first.event_id, template="payment_succeeded")
    assert store.put_if_absent(other_template) is True  # same event, another message: its own document


def test_put_many_if_absent_stores_only_the_new_ones_in_one_call(store: DocumentStore) -> None:
    """A relay batch's notifications: the ones already there (a redelivered event) are left alone."""
    old = doc(recipient=3)
    assert store.put_if_absent(old) is True
    fresh = [doc(recipient=3), doc(recipient=4)]
    again = doc(recipient=3, event=old.event_id)  # the same id as ``old``, a later rendering
    assert store.put_many_if_absent([fresh[0], again, fresh[1]]) == 2
    assert store.get(old.id) == old and [store.get(d.id) for d in fresh] == fresh
    assert store.put_many_if_absent(fresh) == 0 and store.put_many_if_absent([]) == 0


def test_racing_writers_store_one_document(store: DocumentStore, store_kernel: Kernel) -> None:
    same = doc(recipient=7)
    results = in_threads(store_kernel, 8, lambda i: store.put_if_absent(same))
    assert sorted(results) == [False] * 7 + [True]
    assert [d.id for d in store.for_recipient(7, 10)] == [same.id]


def test_feed_is_newest_first_and_pages_with_a_cursor_through_ties(store: DocumentStore) -> None:
    base = utcnow().replace(microsecond=0)
    moments = [base, base + datetime.timedelta(seconds=1), base + datetime.timedelta(seconds=1),
               base + datetime.timedelta(seconds=1), base + datetime.timedelta(seconds=2)]
    docs = [doc(recipient=3, created=m) for m in moments]
    for d in docs:
        store.put_if_absent(d)
    store.put_if_absent(doc(recipient=4))  # someone else's
    expected = [d.id for d in sorted(docs, key=lambda d: (d.created_at, d.id), reverse=True)]
    assert [d.id for d in store.for_recipient(3, 10)] == expected
    seen: list[str] = []
    after: Position | None = None
    while True:
        page = store.for_recipient(3, 2, after)
        if not page:
            break
        seen += [d.id for d in page]
        after = Position(page[-1].created_at, page[-1].id)
    assert seen == expected  # every document exactly once, in order, across the three-way tie


def test_unread_count_and_mark_read_only_by_the_recipient(store: DocumentStore) -> None:
    mine, theirs = doc(recipient=5), doc(recipient=6)
    store.put_if_absent(mine)
    store.put_if_absent(doc(recipient=5))
    store.put_if_absent(theirs)
    assert store.unread_count(5) == 2
    assert store.mark_read(5, theirs.id, utcnow()) is None  # not mine: as if it did not exist
    assert store.unread_count(6) == 1
    assert store.mark_read(5, str(uuid.uuid4()), utcnow()) is None
    first = utcnow()
    read = store.mark_read(5, mine.id, first)
    assert read is not None and read.read_at == first
    again = store.mark_read(5, mine.id, first + datetime.timedelta(minutes=5))
    assert again is not None and again.read_at == first  # idempotent: the first read time stays
    assert store.unread_count(5) == 1


def test_one_claim_wins_and_only_its_holder_finishes(store: DocumentStore, store_kernel: Kernel) -> None:
    d = doc()
    store.put_if_absent(d)
    now = utcnow()
    lease = now + datetime.timedelta(seconds=60)
    assert store.due(now, 10) == [d.id]
    claims = in_threads(store_kernel, 6, lambda i: (f"token-{i}", store.claim(d.id, f"token-{i}", now, lease)))
    winners = [(token, claimed) for token, claimed in claims if claimed is not None]
    assert len(winners) == 1
    holder, claimed = winners[0]
    assert claimed.attempts == 1 and claimed.status == PENDING
    assert store.due(now, 10) == []  # leased: nobody else sees it
    assert store.finish(d.id, "someone-else", Outcome(SENT, now)) is False
    assert store.finish(d.id, holder, Outcome(SENT, now)) is True
    assert store.finish(d.id, holder, Outcome(FAILED, now)) is False  # an outcome is recorded once
    sent = store.get(d.id)
    assert sent is not None and (sent.status, sent.sent_at, sent.attempts) == (SENT, now, 1)
    assert store.due(now + datetime.timedelta(days=1), 10) == []
    assert store.claim(d.id, "late", now + datetime.timedelta(days=1), lease) is None


def test_retry_waits_for_its_time_and_failure_is_final(store: DocumentStore) -> None:
    d = doc()
    store.put_if_absent(d)
    now = utcnow()
    later = now + datetime.timedelta(seconds=30)
    assert store.claim(d.id, "a", now, now + datetime.timedelta(seconds=60)) is not None
    assert store.finish(d.id, "a", Outcome(PENDING, now, due_at=later, error="SMTPDataError: 451")) is True
    retrying = store.get(d.id)
    assert retrying is not None and (retrying.status, retrying.due_at, retrying.last_error) == (
        PENDING, later, "SMTPDataError: 451")
    assert store.due(now, 10) == [] and store.claim(d.id, "b", now, later) is None  # not yet
    assert store.due(later, 10) == [d.id]
    again = store.claim(d.id, "b", later, later + datetime.timedelta(seconds=60))
    assert again is not None and again.attempts == 2
    assert store.finish(d.id, "b", Outcome(FAILED, later, error="gave up")) is True
    failed = store.get(d.id)
    assert failed is not None and (failed.status, failed.failed_at, failed.attempts) == (FAILED, later, 2)
    assert store.due(later + datetime.timedelta(days=365), 10) == []


def test_an_expired_lease_lets_another_worker_retry(store: DocumentStore) -> None:
    d = doc()
    store.put_if_absent(d)
    now = utcnow()
    lease = now + datetime.timedelta(seconds=60)
    assert store.claim(d.id, "dead-worker", now, lease) is not None
    assert store.claim(d.id, "other", now + datetime.timedelta(seconds=30), lease) is None
    taken = store.claim(d.id, "other", lease, lease + datetime.timedelta(seconds=60))
    assert taken is not None and taken.attempts == 2
    assert store.finish(d.id, "dead-worker", Outcome(SENT, lease)) is False  # its lease is gone
    assert store.finish(d.id, "other", Outcome(SENT, lease)) is True


def test_documents_past_retention_disappear(store: DocumentStore) -> None:
    old = doc(recipient=9, created=utcnow() - datetime.timedelta(days=91), due=False)  # retention: 90 days
    fresh = doc(recipient=9)
    store.put_if_absent(old)
    store.put_if_absent(fresh)
    assert [d.id for d in store.for_recipient(9, 10)] == [fresh.id]
    assert store.unread_count(9) == 1
    store.purge_expired(utcnow())
    assert [d.id for d in store.for_recipient(9, 10)] == [fresh.id]


def test_claim_many_takes_only_what_is_pending_and_due(store: DocumentStore) -> None:
    ready, later, taken = doc(), doc(due=False), doc()
    for d in (ready, later, taken):
        store.put_if_absent(d)
    now = utcnow()
    lease = now + datetime.timedelta(seconds=60)
    assert store.claim(taken.id, "other-worker", now, lease) is not None
    claimed = store.claim_many([ready.id, later.id, taken.id, str(uuid.uuid4())], "mine", now, lease)
    assert [(d.id, d.attempts) for d in claimed] == [(ready.id, 1)]
    assert store.claim_many([ready.id], "third", now, lease) == [] and store.claim_many([], "x", now, lease) == []
    assert store.finish(ready.id, "mine", Outcome(SENT, now)) is True
