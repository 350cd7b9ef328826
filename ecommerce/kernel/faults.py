"""Named instants where a crash test kills the process, to prove that dying there is harmless.

Domain code marks the instants that matter for crash safety (``crash_point("checkout.after_reserve")``);
normally a point costs one environment lookup and does nothing. A process started with
``ECOMMERCE_CRASH_AT=<name>`` (several names: comma-separated) sends itself ``SIGKILL`` on reaching that
point: no ``finally``, no rollback handler, no compensation runs — like a power cut or the OOM killer.
The variable is ignored when ``ECOMMERCE_ENV=production``, so a stray one can never take a shop down.

``tests/e2e/test_checkout_crashes.py`` kills a real server at each checkout point, restarts it and checks
the books; ``tests/e2e/test_broker_faults.py`` does the same to the relay and to a consumer with RabbitMQ.
:data:`POINTS` lists the instants, so a test can only name real ones.
"""

from __future__ import annotations

import os
import signal

ENV = "ECOMMERCE_CRASH_AT"

#: Every instant marked in the code, and what has happened when it is reached.
POINTS = {
    "checkout.after_reserve": "stock is held in the catalog; the order transaction has not started",
    "checkout.before_order_commit": "the order, its items, its event and the cart change are written, "
                                    "not committed",
    "checkout.after_order_commit": "the order is committed; the client has not been answered",
    "relay.after_publish": "the broker confirmed a batch of events; the outbox rows are not marked delivered",
    "consumer.after_commit": "a module's inbox transaction committed a batch of messages; none is acked",
    "lake.compaction.before_replace": "a verified Parquet file is written and synced under a temporary name; "
                                      "the day's JSON lines are renamed aside, not removed",
    "lake.compaction.before_remove": "the Parquet file replaced the old one; the JSON lines it holds are "
                                     "still there too",
}


def crash_point(name: str) -> None:
    """Mark an instant: die by SIGKILL here if ``ECOMMERCE_CRASH_AT`` names it (never in production)."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}; add it to ecommerce.kernel.faults.POINTS")
    wanted = os.environ.get(ENV)
    if wanted and name in wanted.split(",") and os.environ.get("ECOMMERCE_ENV") != "production":
        os.kill(os.getpid(), signal.SIGKILL)
