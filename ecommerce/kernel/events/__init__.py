"""Integration events: typed events, a transactional outbox and inbox per module, and the relay."""

from ecommerce.kernel.events.event import Envelope, IntegrationEvent, Subscription, integration_event
from ecommerce.kernel.events.relay import Relay, RelayReport
from ecommerce.kernel.events.tables import EventTables
from ecommerce.kernel.events.transport import Consumer, InProcessTransport, OutboxEvent, Transport

__all__ = [
    "Consumer", "Envelope", "EventTables", "InProcessTransport", "IntegrationEvent", "OutboxEvent", "Relay",
    "RelayReport", "Subscription", "Transport", "integration_event",
]
