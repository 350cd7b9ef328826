"""The app's background relay drains the outbox without anyone running ``ecommerce events relay``."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from ecommerce.kernel.events import background
from ecommerce.modules.users.models import events
from tests.support.api import register
from tests.support.live_server import LiveServer
from tests.support.polling import eventually
from tests.support.processes import cli_env, server_process

#: Events cross modules here: these tests also run with the RabbitMQ transport.
pytestmark = pytest.mark.events


def test_events_published_by_a_request_are_relayed_in_the_background(app_factory: object) -> None:
    app = app_factory(run_relay=True, relay_interval=30)  # type: ignore[operator]
    server = LiveServer(app).start()
    kernel = app.ctx.kernel
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            register(client)
        Outbox = events.Outbox
        delivered = eventually(
            lambda: kernel.runner.call(lambda: Outbox.select().where(Outbox.delivered_at.is_null(False)).count()),
            what="the delivery")
        # relay_interval is 30 s: delivery this early means the publish woke the relay.
        assert delivered == 1
    finally:
        server.stop()


def test_with_several_workers_the_relay_has_a_process_of_its_own_and_a_commit_wakes_it(tmp_path: Path) -> None:
    """``serve --workers 2``: the relay, the consumers and the jobs run in one process next to the two request
    workers (which only serve requests), and a worker's publishing commit wakes it across processes."""
    env = {"ECOMMERCE_RELAY_INTERVAL": "30"}
    with server_process(tmp_path, cli_env(tmp_path, **env), "--workers", "2") as (proc, base):
        def children() -> list[str] | None:
            """The names of the server's child processes, once the relay's is among them."""
            pids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            names = [Path(f"/proc/{pid}/comm").read_text().strip() for pid in pids]
            return names if background.PROCESS_NAME in names else None

        names = eventually(children, timeout=10, interval=0.1, what="the relay process")
        assert names.count(background.PROCESS_NAME) == 1, names
        time.sleep(1)  # the relay's first full pass is over: only a wake-up delivers within the next 30 s
        with httpx.Client(base_url=base, timeout=30) as client:
            register(client)
        database = tmp_path / "data" / "ecommerce.db"

        def delivered() -> int:
            with sqlite3.connect(database) as db:
                count: int = db.execute(
                    "SELECT count(*) FROM users_outbox WHERE delivered_at IS NOT NULL").fetchone()[0]
            return count

        assert eventually(delivered, timeout=10, what="the event delivered on a wake-up") == 1
