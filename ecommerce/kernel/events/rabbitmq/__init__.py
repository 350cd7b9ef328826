"""Integration events over RabbitMQ (aio-pika): the transport between services (ADR 0022).

Chosen with ``ECOMMERCE_EVENT_BROKER_URL=amqp://...``; without it events stay in the process.
"""

from ecommerce.kernel.events.rabbitmq.connection import BrokerClient, BrokerUnavailable
from ecommerce.kernel.events.rabbitmq.consumer import BrokerConsumers, ConsumeReport, ModuleConsumer, QueueDepth
from ecommerce.kernel.events.rabbitmq.publisher import RabbitTransport
from ecommerce.kernel.events.rabbitmq.topology import Topology

__all__ = [
    "BrokerClient", "BrokerConsumers", "BrokerUnavailable", "ConsumeReport", "ModuleConsumer", "QueueDepth",
    "RabbitTransport", "Topology",
]
