"""The notifications module's public facade (other modules and scripts call this).

Notifications are driven by events, so other modules rarely need it: this offers what a page or a script
may want to show, as plain data.
"""

from __future__ import annotations

from typing import Any

from ecommerce.kernel.pagination import MAX_LIMIT, PageRequest
from ecommerce.kernel.remote import remotable
from ecommerce.modules.notifications import delivery, feed, settings


@remotable("notifications", idempotent=True)
def unread_count(user_id: int) -> int:
    return settings.get().store.unread_count(user_id)


@remotable("notifications", idempotent=True)
def recent(user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The user's newest notifications (at most ``limit``, capped at 100), as the API shows them."""
    page, _ = feed.mine(user_id, PageRequest(max(1, min(limit, MAX_LIMIT))))
    return list(page.items)


def deliver_now() -> dict[str, object]:
    """Send what is due now (the periodic job does this anyway); returns the counts."""
    return delivery.deliver_due().as_dict()
