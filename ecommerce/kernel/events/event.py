"""Integration events: the only thing modules say to each other asynchronously.

Events are frozen dataclasses of JSON-friendly fields with a versioned name (``users.UserRegistered``
v1). Consumers read them tolerantly: unknown fields are ignored, so a publisher may add fields without
breaking anyone; removing or changing one means a new version.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, dataclass_transform


@dataclass(frozen=True)
class IntegrationEvent:
    """Base class. Subclasses are declared with :func:`integration_event`, which sets ``name``
    (``"<module>.<PastTenseFact>"``) and ``version``."""

    name: ClassVar[str] = "integration.Event"
    version: ClassVar[int] = 1

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> IntegrationEvent:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    @classmethod
    def key(cls) -> str:
        """The routing key: name and version, e.g. ``users.UserRegistered.v1``."""
        return f"{cls.name}.v{cls.version}"


E = TypeVar("E", bound=IntegrationEvent)


@dataclass_transform(frozen_default=True)
def integration_event(name: str, version: int = 1) -> Callable[[type[E]], type[E]]:
    """Declare an event class: ``@integration_event("catalog.ProductCreated")`` over a subclass of
    :class:`IntegrationEvent` makes it a frozen dataclass of its annotated fields, published under ``name``
    (``"<module>.<PastTenseFact>"``) and ``version`` (a new one when a field is removed or changed)."""

    def declare(cls: type[E]) -> type[E]:
        cls.name, cls.version = name, version
        return dataclass(frozen=True)(cls)

    return declare


@dataclass(frozen=True)
class Envelope(Generic[E]):
    """What a handler receives: the typed event plus delivery metadata."""

    event_id: str
    source: str
    occurred_at: datetime.datetime
    event: E


@dataclass(frozen=True)
class Subscription:
    """A consumer module's handler for one event type. ``name`` keys the inbox (keep it stable).

    ``atomic=True`` (default): the handler's writes and the inbox record commit together, so the effect
    happens exactly once — but the handler may only write its own module's database (it may *read* other
    modules through their facades: a read takes no lock this transaction holds; ADR 0015).
    ``atomic=False``: for handlers that call *other* modules' writes or effects (which use their own
    databases and transactions, and would wait on a lock this transaction holds). The handler runs outside any
    transaction and the inbox is written after it; it may run again after a crash, so it must be
    idempotent (conditional updates, idempotent facade calls).

    ``batch``: optionally, the same effect for several events at once, given in outbox order (what calling
    ``handler`` for each in turn would do): a relay batch then costs one call, e.g. one read of another
    module for all its events instead of one per event (ADR 0015). ``handler`` still runs alone when a
    batch is retried one event at a time.
    """

    event: type[IntegrationEvent]
    handler: Callable[[Envelope[Any]], None]
    name: str = ""
    atomic: bool = True
    batch: Callable[[Sequence[Envelope[Any]]], None] | None = None

    @property
    def handler_name(self) -> str:
        return self.name or f"{self.handler.__module__}.{self.handler.__qualname__}"
