"""The app's background relay drains the outbox without anyone running ``ecommerce events relay``."""

from __future__ import annotations

import httpx
import pytest

from ecommerce.modules.users.models import events
from tests.support.api import register
from tests.support.live_server import LiveServer
from tests.support.polling import eventually

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
