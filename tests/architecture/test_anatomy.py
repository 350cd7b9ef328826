"""Every module has the same files for the same roles (``ecommerce.kernel.anatomy``), and a module that
lacks one says why in its ``Module(lacks=...)``. The check holds on every installed module and on the
example module, and it bites: a planted package missing a role it does not declare is reported.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from peewee import DatabaseProxy

from ecommerce.kernel import anatomy
from ecommerce.kernel.events import EventTables, Subscription
from ecommerce.kernel.module import Module
from ecommerce.modules.catalog.events import ProductDeleted

ROOT = Path(__file__).resolve().parents[2]
EVERY_ROLE = ("api.py", "events.py", "models.py", "migrations/", "reactions.py", "http.py", "settings.py",
              "cli.py", "schemas.py")


def test_every_installed_module_follows_the_anatomy() -> None:
    found = anatomy.installed()
    assert {"users", "catalog", "orders", "payments", "storefront"} <= set(found)
    assert anatomy.check_installed() == []


def test_the_example_module_follows_it_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "wishlist"))
    try:
        from ecommerce_wishlist import module

        assert anatomy.check(module, ROOT / "examples" / "wishlist" / "ecommerce_wishlist") == []
    finally:
        for name in [n for n in sys.modules if n == "ecommerce_wishlist" or n.startswith("ecommerce_wishlist.")]:
            del sys.modules[name]


def test_the_roles_are_the_documented_ones() -> None:
    assert tuple(role.path for role in anatomy.ROLES) == EVERY_ROLE


def _on_hand(product_deleted: object) -> None:
    """A handler defined outside any reactions.py (here, in the test module)."""


def planted(tmp_path: Path, files: tuple[str, ...], lacks: Mapping[str, str] | None = None,
            **declared: object) -> tuple[Module, Path]:
    """A throw-away module package ``shop`` with ``files``, and its Module object."""
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text('"""A planted module."""\n')
    for name in files:
        if name.endswith("/"):
            (package / name).mkdir()
        else:
            (package / name).write_text('"""A planted file."""\n')
    database = DatabaseProxy()
    module = Module(name="shop", description="a planted module", database=database,
                    events=EventTables("shop", database), lacks=lacks or {}, **declared)  # type: ignore[arg-type]
    return module, package


def test_a_complete_module_passes(tmp_path: Path) -> None:
    assert anatomy.check(*planted(tmp_path, EVERY_ROLE)) == []


def test_a_missing_role_not_declared_is_reported(tmp_path: Path) -> None:
    without_events = tuple(f for f in EVERY_ROLE if f != "events.py")
    assert anatomy.check(*planted(tmp_path, without_events)) == [
        "shop: no events.py (events) and no lacks['events'] saying why"]


def test_a_missing_role_declared_with_a_reason_passes(tmp_path: Path) -> None:
    without_events = tuple(f for f in EVERY_ROLE if f != "events.py")
    assert anatomy.check(*planted(tmp_path, without_events, {"events": "publishes nothing"})) == []


def test_a_missing_folder_role_is_reported(tmp_path: Path) -> None:
    without_migrations = tuple(f for f in EVERY_ROLE if f != "migrations/")
    problems = anatomy.check(*planted(tmp_path, without_migrations))
    assert problems == ["shop: no migrations/ (migrations) and no lacks['migrations'] saying why"]


@pytest.mark.parametrize(
    ("files", "lacks", "declared", "expected"),
    [
        (EVERY_ROLE, {"events": "publishes nothing"}, {}, "shop: declares it lacks events but has events.py"),
        (tuple(f for f in EVERY_ROLE if f != "events.py"), {"events": " "}, {},
         "shop: lacks['events'] gives no reason"),
        (EVERY_ROLE, {"service": "has none"}, {}, "shop: lacks names 'service', which is no role"),
        (tuple(f for f in EVERY_ROLE if f != "http.py"), {"http": "no routes"}, {"blueprint": "shop.http:bp"},
         "shop: lacks http but its Module declares blueprint"),
        (tuple(f for f in EVERY_ROLE if f != "cli.py"), {"cli": "no commands"}, {"cli": "shop.cli:add"},
         "shop: lacks cli but its Module declares cli"),
        ((*EVERY_ROLE, "service.py"), {}, {}, "shop: service.py says where code sits, not what it does"),
        (EVERY_ROLE, {}, {"subscriptions": [Subscription(ProductDeleted, _on_hand, name="shop.deleted")]},
         "shop: the handler of 'shop.deleted' is in tests.architecture.test_anatomy, not in reactions.py"),
    ],
)
def test_each_break_of_the_anatomy_is_named(tmp_path: Path, files: tuple[str, ...], lacks: dict[str, str],
                                             declared: dict[str, object], expected: str) -> None:
    problems = anatomy.check(*planted(tmp_path, files, lacks, **declared))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_other_files_are_the_use_cases() -> None:
    orders = anatomy.installed()["orders"][1]
    assert {"cart.py", "checkout.py", "transitions.py", "queries.py", "states.py"} <= set(anatomy.other_files(orders))
    assert not {"api.py", "__init__.py", "migrations/"} & set(anatomy.other_files(orders))


def test_the_contributing_guide_lists_exactly_the_roles() -> None:
    """CONTRIBUTING.md writes the anatomy out for a newcomer: its table cannot drift from ``ROLES``."""
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = guide[guide.index("### The anatomy of a module"):guide.index("A module without one of these roles")]
    listed = [line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| ")]
    assert listed[1:] == ["__init__.py", *(role.path for role in anatomy.ROLES), "use cases"]
