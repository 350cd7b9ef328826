"""Two instances of the shop behind nginx, for real: ``ecommerce up`` on a layout with ``instances = 2``,
both instances on one PostgreSQL database, each running the outbox relay and the background jobs.

- every event is relayed once and handled once per subscriber, although both instances relay: the data
  lake (which the relay appends to before the handlers run) holds each event once, each handler's inbox
  has one row per event, and each customer gets one welcome email;
- the throttle limit, counted in Redis, holds across the instances;
- a price changed through one instance is served by the other at once with Redis (the shared cache is
  forgotten on write), and within ``ECOMMERCE_CACHE_TTL`` with the in-process cache (the documented bound).

The instance drills (one instance SIGKILLed under load, the replica and Redis stopped) are in
``tests/e2e/test_failure_drills.py``.
"""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg2
import pytest

from tests.support import services
from tests.support.instances import Deployment, admin, deployment, product
from tests.support.polling import eventually

#: Drills that run whole servers on PostgreSQL take turns on one xdist worker (connections, CPU).
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres-servers")]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Two instances sharing Redis (limits and cache) in a namespace of this module's own."""
    redis_url = services.require_redis()
    with services.isolated_namespace() as namespace, deployment(
            tmp_path_factory.mktemp("shared"), ECOMMERCE_REDIS_URL=redis_url, ECOMMERCE_RATE_LIMIT_NAMESPACE=namespace,
            ECOMMERCE_AUTH_RATE_LIMIT="5/minute") as shop:
        yield shop


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def test_both_instances_serve_behind_one_gateway(shared: Deployment) -> None:
    for base in (shared.gateway, *shared.instances):
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["redis"] == "ok", ready.text
    assert "services app x2" in shared.log()
    assert "[app#1]" in shared.log() and "[app#2]" in shared.log()


def test_each_event_is_relayed_once_and_handled_once_per_subscriber(shared: Deployment) -> None:
    with httpx.Client(base_url=shared.gateway, timeout=30) as client:
        emails = []
        for n in range(8):  # each registration lands on either instance and wakes that instance's relay
            email = f"once-{n}-{time.monotonic_ns()}@example.com"
            answer = client.post("/api/v1/auth/register", json={"email": email, "password": "a long passphrase 42"},
                                 headers={"X-Forwarded-For": f"198.51.100.{n + 1}"})
            assert answer.status_code == 201, answer.text
            emails.append(email)
    mailbox = shared.data_dir / "mailbox"

    def welcomed() -> collections.Counter[str]:
        found: collections.Counter[str] = collections.Counter()
        for path in mailbox.glob("*.eml") if mailbox.is_dir() else ():
            found.update(e for e in emails if f"To: {e}" in path.read_text(errors="replace"))
        assert len(found) == len(emails), found
        return found

    assert set(eventually(welcomed, timeout=60).values()) == {1}  # one welcome email each, never two
    pending = _rows(shared.database_url, "SELECT count(*) FROM users.users_outbox WHERE delivered_at IS NULL")
    assert pending == [(0,)]
    # The lake gets each event appended by the relay that claimed it: twice would mean two relays took it.
    lines = [json.loads(line) for path in (shared.data_dir / "lake").rglob("*.jsonl")
             for line in path.read_text().splitlines() if line.strip()]
    ids = collections.Counter(str(record["id"]) for record in lines)
    assert ids and max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
    registered = _rows(shared.database_url, "SELECT event_id FROM users.users_outbox "
                                            "WHERE name LIKE '%UserRegistered%'")
    assert {str(row[0]) for row in registered} <= set(ids)
    # Every subscriber's inbox: one row per event and handler.
    for schema in ("notifications", "recommendations", "search"):
        duplicates = _rows(shared.database_url, f"SELECT event_id, handler, count(*) FROM {schema}.{schema}_inbox "
                                                "GROUP BY event_id, handler HAVING count(*) > 1")
        assert duplicates == [], (schema, duplicates)
    handled = _rows(shared.database_url, "SELECT count(DISTINCT event_id) FROM notifications.notifications_inbox")
    assert int(handled[0][0]) >= len(emails)  # type: ignore[call-overload]


def test_the_throttle_limit_holds_across_instances(shared: Deployment) -> None:
    """Auth routes: 5 a minute per client address. Twelve attempts on new connections through the
    gateway, balanced over both instances: in-process counters would let up to ten through."""
    codes = []
    for _ in range(12):
        with httpx.Client(base_url=shared.gateway, timeout=30) as client:
            codes.append(client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "x" * 12},
                                     headers={"X-Forwarded-For": "203.0.113.77"}).status_code)
    assert codes.count(401) == 5 and codes.count(429) == 7, codes
    # Both instances answered some of them (each counts its own requests in /metrics).
    for base in shared.instances:
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert 'status="429"' in metrics or 'status="401"' in metrics, base


def test_a_price_change_through_one_instance_is_fresh_on_the_other_with_redis(shared: Deployment) -> None:
    one, two = shared.instances
    with httpx.Client(base_url=one, timeout=30) as first, httpx.Client(base_url=two, timeout=30) as second:
        before = product(second, 5)["price"]
        assert product(second, 5)["price"] == before  # now cached, in Redis
        changed = first.patch("/api/v1/products/5", json={"price": before + 123}, headers=admin(first))
        assert changed.status_code == 200, changed.text
        assert product(second, 5)["price"] == before + 123  # the write forgot the shared key: no stale read


def test_with_the_in_process_cache_the_other_instance_is_stale_at_most_the_ttl(tmp_path: Path) -> None:
    ttl = 1.0
    with deployment(tmp_path, ECOMMERCE_CACHE_TTL=str(int(ttl))) as shop:
        one, two = shop.instances
        with httpx.Client(base_url=one, timeout=30) as first, httpx.Client(base_url=two, timeout=30) as second:
            before = product(second, 7)["price"]  # cached in instance 2's own memory
            changed = first.patch("/api/v1/products/7", json={"price": before + 77}, headers=admin(first))
            assert changed.status_code == 200, changed.text
            written = time.monotonic()
            seen: list[tuple[float, int]] = []
            while time.monotonic() < written + ttl + 1.5:
                asked = time.monotonic()
                seen.append((asked - written, product(second, 7)["price"]))
                time.sleep(0.05)
    late = [price for after, price in seen if after > ttl]
    assert late and set(late) == {before + 77}, seen  # past the TTL, never the old price
