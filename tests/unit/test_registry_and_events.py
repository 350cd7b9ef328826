"""Module discovery, enable/disable rules, and the integration-event envelope."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from peewee import DatabaseProxy

from ecommerce.kernel.events import EventTables, IntegrationEvent
from ecommerce.kernel.module import Module
from ecommerce.kernel.registry import Registry, discover
from ecommerce.kernel.settings import Settings, SettingsError


def fake(name: str, requires: tuple[str, ...] = ()) -> Module:
    proxy = DatabaseProxy()
    return Module(name=name, description=name, database=proxy, events=EventTables(name, proxy), requires=requires)


def test_installed_modules_are_found_through_entry_points() -> None:
    modules = discover()
    assert "users" in modules
    assert {"users", "auth_session", "blocked_auth", "addresses"} <= set(modules["users"].tables)


def test_dependencies_come_first_and_disabled_modules_are_left_out() -> None:
    modules = {"orders": fake("orders", ("catalog",)), "catalog": fake("catalog"), "search": fake("search")}
    registry = Registry(modules, Settings(disabled_modules=("search",)))
    assert registry.names() == ["catalog", "orders"]
    assert "search" not in registry


def test_disabling_a_dependency_is_a_configuration_error() -> None:
    modules = {"orders": fake("orders", ("catalog",)), "catalog": fake("catalog")}
    with pytest.raises(SettingsError, match="'orders' needs catalog"):
        Registry(modules, Settings(modules=("orders",)))


def test_unknown_module_names_are_a_configuration_error() -> None:
    with pytest.raises(SettingsError, match="unknown module"):
        Registry({"users": fake("users")}, Settings(disabled_modules=("userz",)))


@dataclass(frozen=True)
class ThingHappened(IntegrationEvent):
    name = "tests.ThingHappened"
    version = 2

    thing_id: int
    label: str


def test_event_key_and_tolerant_payload() -> None:
    assert ThingHappened.key() == "tests.ThingHappened.v2"
    event = ThingHappened(thing_id=3, label="x")
    assert event.to_payload() == {"thing_id": 3, "label": "x"}
    newer = {"thing_id": 3, "label": "x", "added_later": True}
    assert ThingHappened.from_payload(newer) == event
