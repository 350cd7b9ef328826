"""How fast each notification store does what the module asks of it (ADR 0018).

    python benchmarks/notification_store.py                                   # SQLite file + Redis
    python benchmarks/notification_store.py --database-url postgresql://...   # PostgreSQL + Redis
    python benchmarks/notification_store.py --documents 20000 --redis-url redis://127.0.0.1:6379/0

For each store, on fresh data (``--documents`` notifications spread over ``--recipients`` users, created
one millisecond apart), single-threaded, one operation at a time as a request or the job would do it:
1. ``put_if_absent`` of every document (what an event handler does), then again for all (a redelivery:
   every one must be refused), documents/s;
2. the first feed page of 20, and the 10th page through the keyset cursor, plus the unread count
   (what ``GET /notifications`` does), requests/s;
3. ``due`` + ``claim`` + ``finish`` for every document (the delivery job without the SMTP call), /s.
Redis keys live under a throw-away namespace that is deleted afterwards. Deterministic (seeded ids).
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.settings import Settings
from ecommerce.modules.notifications import settings as notification_settings
from ecommerce.modules.notifications.documents import SENT, DocumentStore, Notification, Outcome, Position

PAGE = 20


def documents(count: int, recipients: int) -> list[Notification]:
    start = utcnow() - datetime.timedelta(days=1)
    out = []
    for n in range(count):
        event_id = str(uuid.UUID(int=n + 1))
        at = start + datetime.timedelta(milliseconds=n)
        out.append(Notification(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, event_id)), event_id=event_id, template="order_placed",
            recipient_id=n % recipients + 1, recipient_email=f"user{n % recipients + 1}@example.com",
            channel="email", subject=f"Order #{n} received",
            body=f"Hello,\n\nthank you for your order #{n} (2 item(s)) for 49.99 USD.\n", created_at=at, due_at=at))
    return out


def rate(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def measure(kernel: Kernel, docs: list[Notification], recipients: int) -> dict[str, float]:
    store: DocumentStore = notification_settings.get().store
    users = range(1, recipients + 1)

    def put_all() -> None:
        for doc in docs:
            assert store.put_if_absent(doc)

    def put_again() -> None:
        for doc in docs:
            assert not store.put_if_absent(doc)

    def first_pages() -> None:
        for user in users:
            assert len(store.for_recipient(user, PAGE + 1)) == PAGE + 1
            store.unread_count(user)

    def tenth_pages() -> None:
        for user in users:
            after: Position | None = None
            for _ in range(10):
                page = store.for_recipient(user, PAGE, after)
                after = Position(page[-1].created_at, page[-1].id)

    def deliver_all() -> None:
        now = utcnow()
        lease = now + datetime.timedelta(seconds=60)
        while True:
            due = store.due(now, 100)
            if not due:
                return
            for notification_id in due:
                if store.claim(notification_id, "bench", now, lease) is not None:
                    store.finish(notification_id, "bench", Outcome(SENT, now))

    return {
        "put_if_absent (new)": kernel.call(rate, len(docs), put_all),
        "put_if_absent (duplicate)": kernel.call(rate, len(docs), put_again),
        "first page + unread count": kernel.call(rate, recipients, first_pages),
        "10 pages through the cursor": kernel.call(rate, recipients * 10, tenth_pages),
        "due + claim + finish": kernel.call(rate, len(docs), deliver_all),
    }


def run(name: str, settings: Settings, docs: list[Notification], recipients: int) -> None:
    kernel = Kernel(settings)
    kernel.migrate()
    try:
        results = measure(kernel, docs, recipients)
    finally:
        kernel.close()
    print(f"{name}: {len(docs)} documents, {recipients} recipients")
    for label, per_second in results.items():
        print(f"  {label:<28} {per_second:10.0f} /s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--recipients", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="'' to skip Redis")
    args = parser.parse_args()
    assert args.documents >= args.recipients * (10 * PAGE + 1), "each recipient needs 10 pages and one more"
    docs = documents(args.documents, args.recipients)
    root = Path(tempfile.mkdtemp(prefix="notification-bench-"))
    base = Settings(data_dir=root, database_url=args.database_url, secret_key="bench-" + "x" * 40, run_relay=False,
                    log_level="WARNING", modules=("users", "notifications"))
    run("postgresql" if args.database_url else "sqlite", base, docs, args.recipients)
    if args.redis_url:
        import redis

        namespace = f"bench-{uuid.uuid4().hex}"
        try:
            run("redis", base.replace(data_dir=root / "r", redis_url=args.redis_url, rate_limit_namespace=namespace),
                docs, args.recipients)
        finally:
            client = redis.Redis.from_url(args.redis_url)
            for key in client.scan_iter(f"{namespace}:*"):
                client.delete(key)


if __name__ == "__main__":
    main()
