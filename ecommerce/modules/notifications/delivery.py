"""Sending stored notifications: the module's periodic job and ``ecommerce notifications deliver``.

Runs after, and apart from, the event handling that stored the documents: a slow or broken mail server
never holds a database transaction or blocks the event relay. Safe with many workers: each document is
*claimed* first (conditional update: pending and due -> lease), so exactly one worker sends it; a worker
that dies mid-send loses its lease and another retries later. A failed send is retried with exponential
backoff (``due_at``); after the last attempt the document is ``failed`` — kept and visible, never lost.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.tally import Tally
from ecommerce.modules.notifications import settings
from ecommerce.modules.notifications.channels import email_message
from ecommerce.modules.notifications.documents import FAILED, PENDING, SENT, Outcome

log = logging.getLogger("ecommerce.notifications")


@dataclass
class DeliveryReport(Tally):
    """What one delivery pass did with the notifications that were due."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(now: datetime.datetime | None = None, batch: int = 100) -> DeliveryReport:
    """Send every notification due at ``now`` (default: the current time) once."""
    cfg = settings.get()
    moment = now or utcnow()
    lease_until = moment + datetime.timedelta(seconds=cfg.lease)
    report = DeliveryReport()
    token = str(uuid.uuid4())
    # The due documents claimed together, in two statements (were two per document; another worker may take
    # some first: those are not returned). The lease is the pass's, as when each was claimed before its send;
    # each is still finished right after its send, so a crash re-sends at most the one in flight.
    due = cfg.store.due(moment, batch)
    claimed = {doc.id: doc for doc in cfg.store.claim_many(due, token, moment, lease_until)}
    for doc in (claimed[i] for i in due if i in claimed):
        try:
            cfg.channel.send(email_message(doc, cfg.sender))
        except Exception as exc:  # any failure of the channel: retry later, the document stays
            error = f"{type(exc).__name__}: {exc}"[:500]
            if doc.attempts >= cfg.max_attempts:
                outcome = Outcome(FAILED, moment, error=error)
                report.failed += 1
                log.error("notification failed for good", extra={"notification": doc.id, "error": error})
            else:
                outcome = Outcome(PENDING, moment, due_at=moment + cfg.backoff(doc.attempts), error=error)
                report.retried += 1
                log.warning("notification send failed; will retry", extra={"notification": doc.id, "error": error})
            report.errors.append(f"{doc.id}: {error}")
        else:
            outcome = Outcome(SENT, utcnow())
            report.sent += 1
        if not cfg.store.finish(doc.id, token, outcome):
            log.warning("notification lease lost before its outcome was recorded", extra={"notification": doc.id})
    return report


def deliver_until_idle(max_passes: int = 1000) -> DeliveryReport:
    """Pass after pass until nothing due is left (the CLI); retries scheduled later are left for later."""
    total = DeliveryReport()
    for _ in range(max_passes):
        report = deliver_due()
        total += report
        if report.total == 0:
            break
    return total


def purge_expired() -> int:
    return settings.get().store.purge_expired(utcnow())
