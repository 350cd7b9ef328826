"""``Module.of``: a module's conventional entries come from its anatomy's files, so its ``__init__`` says only
what is particular to it. Shown on a planted package written to a temporary folder and imported for real."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from peewee import DatabaseProxy, IntegerField, Model

from ecommerce.kernel.events import EventTables
from ecommerce.kernel.module import Module

FILES = {
    "events.py": """
        from dataclasses import dataclass
        from ecommerce.kernel.events import IntegrationEvent
        from ecommerce.modules.users.events import UserRegistered  # imported, so not one of its own

        @dataclass(frozen=True)
        class _OfAShelf(IntegrationEvent):
            shelf_id: int

        @dataclass(frozen=True)
        class ShelfFilled(_OfAShelf):
            name = "shelf.ShelfFilled"

        @dataclass(frozen=True)
        class ShelfEmptied(_OfAShelf):
            name = "shelf.ShelfEmptied"
    """,
    "models.py": """
        from peewee import DatabaseProxy, IntegerField, Model
        from ecommerce.kernel.events import EventTables

        database = DatabaseProxy()
        events = EventTables("shelf", database)

        class Shelf(Model):
            size = IntegerField()

        MODELS = [Shelf]
    """,
    "reactions.py": "SUBSCRIPTIONS = []\n",
    "settings.py": """
        from dataclasses import dataclass

        @dataclass(frozen=True)
        class ShelfSettings:
            size: int = 3

        def setup(context): ...
    """,
    "http.py": "def build_blueprint(): ...\n",
    "__init__.py": """
        from ecommerce.kernel.module import Module

        module = Module.of(__name__, description="a planted module", requires=("users",))
    """,
}


@pytest.fixture
def shelf(tmp_path: Path) -> Iterator[Module]:
    package = tmp_path / "shelf"
    (package / "migrations").mkdir(parents=True)
    for name, text in FILES.items():
        (package / name).write_text(textwrap.dedent(text), encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("shelf").module
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == "shelf" or name.startswith("shelf.")]:
            del sys.modules[name]


def test_the_files_give_the_conventional_entries(shelf: Module) -> None:
    models = sys.modules["shelf.models"]
    settings = sys.modules["shelf.settings"]
    assert shelf.name == "shelf"
    assert (shelf.database, shelf.events, list(shelf.models)) == (models.database, models.events, [models.Shelf])
    assert [event.__name__ for event in shelf.publishes] == ["ShelfFilled", "ShelfEmptied"]  # its own, in order
    assert shelf.migrations is not None and shelf.migrations.name == "migrations"
    assert shelf.blueprint == "shelf.http:build_blueprint"
    assert shelf.cli is None  # no cli.py
    assert shelf.subscriptions == []
    assert (shelf.settings, shelf.setup, shelf.remote_setup) == (settings.ShelfSettings, settings.setup, None)
    assert shelf.requires == ("users",)  # what it declares itself


def test_its_models_are_bound_to_its_database(shelf: Module) -> None:
    assert sys.modules["shelf.models"].Shelf._meta.database is shelf.database


def test_an_entry_given_wins_over_the_derived_one(shelf: Module) -> None:
    again = Module.of("shelf", name="shelf", description="again", blueprint=None, publishes=())
    assert (again.blueprint, list(again.publishes)) == (None, [])


def test_a_model_of_another_database_is_refused() -> None:
    mine, other = DatabaseProxy(), DatabaseProxy()

    class Elsewhere(Model):
        size = IntegerField()

        class Meta:
            database = other

    with pytest.raises(ValueError, match="Elsewhere is bound to another database"):
        Module(name="mine", description="mine", database=mine, events=EventTables("mine", mine), models=[Elsewhere])
