"""Integration events: typed events, a transactional outbox and inbox per module, and the relay."""

from ecommerce.kernel.events.event import Envelope, IntegrationEvent, Subscription
from ecommerce.kernel.events.relay import Consumer, Relay, RelayReport
from ecommerce.kernel.events.tables import EventTables

__all__ = ["Consumer", "Envelope", "EventTables", "IntegrationEvent", "Relay", "RelayReport", "Subscription"]
