"""A slow database call in one request must not hold up any other request."""

from __future__ import annotations

import threading
import time

import httpx
from sanic import HTTPResponse, Request, json

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.database import is_postgres
from tests.support.live_server import LiveServer


def test_blocking_database_call_does_not_delay_healthz(app_factory: object) -> None:
    app = app_factory()  # type: ignore[operator]
    db = app.ctx.kernel.databases.get("users")
    release = threading.Event()
    started = threading.Event()

    def slow_query() -> None:
        started.set()
        if is_postgres(db):
            db.execute_sql("SELECT pg_sleep(2)")
        else:
            # SQLite has no sleep(); hold a real transaction on the database while blocked instead.
            with db.atomic():
                db.execute_sql("SELECT count(*) FROM users")
                release.wait(timeout=2)

    async def slow(request: Request) -> HTTPResponse:
        await run_sync(slow_query)
        return json({"done": True})

    app.add_route(slow, "/test/slow")
    server = LiveServer(app).start()
    try:
        finished: list[float] = []

        def call_slow() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as c:
                assert c.get("/test/slow").status_code == 200
            finished.append(time.monotonic())

        slow_thread = threading.Thread(target=call_slow)
        slow_thread.start()
        assert started.wait(timeout=10)  # the slow request reached the database
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for _ in range(5):
                assert c.get("/healthz").status_code == 200
        health_done = time.monotonic()
        assert finished == []  # /healthz answered five times while the slow call was still running
        release.set()
        slow_thread.join(timeout=30)
        assert finished and finished[0] > health_done
    finally:
        release.set()
        server.stop()
