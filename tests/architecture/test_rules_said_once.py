"""Each business rule is written in one place, so changing it cannot leave a stale copy behind.

- the order states: only ``orders`` spells them; the modules reacting to its events import them from
  ``orders.events`` (a consumer that compares ``to_status`` with its own ``"shipped"`` would silently
  stop matching when orders renames the state);
- setting a product's on-hand stock: ``catalog/stock.py: write_on_hand``, used by the admin route and the
  CSV import;
- the refusal of an illegal order transition: ``orders/states.py: illegal``;
- how money is stored: ``kernel/columns.py: MoneyField`` (``BIGINT`` minor units) in every module's models.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from peewee import BigIntegerField, IntegerField, Model

from ecommerce.kernel.columns import MoneyField
from ecommerce.kernel.registry import discover
from ecommerce.modules.orders.states import STATES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ecommerce"
#: The modules whose code reacts to order states (they subscribe to ``OrderStatusChanged``).
CONSUMERS = ("notifications", "payments", "recommendations")


def spelled_states(source: str) -> list[str]:
    """Order-state strings used as values to compare with or to look up: in a comparison (or a tuple,
    list or set compared with), a set display, or the keys of a dict keyed by states."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        candidates: list[ast.expr] = []
        if isinstance(node, ast.Compare):
            candidates = [node.left, *node.comparators]
            candidates += [e for c in node.comparators if isinstance(c, (ast.Tuple, ast.List, ast.Set))
                           for e in c.elts]
        elif isinstance(node, ast.Set):
            candidates = list(node.elts)
        elif isinstance(node, ast.Dict) and node.keys and all(  # a lookup by state, not a row with a "paid" column
                isinstance(k, ast.Constant) and k.value in STATES for k in node.keys):
            candidates = [key for key in node.keys if key is not None]
        found += [c.value for c in candidates
                  if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value in STATES]
    return found


def test_only_orders_spells_the_order_states() -> None:
    offenders = []
    for module in CONSUMERS:
        for path in sorted((PACKAGE / "modules" / module).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for state in spelled_states(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(ROOT)}: {state!r} (import it from orders.events)")
    assert not offenders, "\n".join(offenders)


def test_the_check_catches_a_retyped_state() -> None:
    planted = 'LOUD = {"shipped": "order_shipped"}\nif event.to_status == "paid" or x in ("expired",): pass\n'
    assert sorted(spelled_states(planted)) == ["expired", "paid", "shipped"]
    assert spelled_states('GatewayResult(APPROVED, "refunded", "Refunded.")') == []  # a call's argument: not a rule


def _occurrences(needle: str) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in sorted(PACKAGE.rglob("*.py"))
            if "migrations" not in path.parts and needle in path.read_text(encoding="utf-8")]


def test_on_hand_stock_is_set_in_one_place() -> None:
    assert _occurrences("Inventory.update(quantity=quantity") == ["ecommerce/modules/catalog/stock.py"]
    assert "stock.write_on_hand(" in (PACKAGE / "modules" / "catalog" / "importer.py").read_text(encoding="utf-8")


def test_an_illegal_transition_is_worded_in_one_place() -> None:
    assert _occurrences("cannot go from") == ["ecommerce/modules/orders/states.py"]


def test_address_limits_come_from_the_rules() -> None:
    from ecommerce.modules.users.models import Address
    from ecommerce.modules.users.rules import ADDRESS_LIMITS
    from ecommerce.modules.users.schemas import AddressIn, AddressPatch

    for field, limit in ADDRESS_LIMITS.items():
        assert getattr(Address, field).max_length == limit
        for schema in (AddressIn, AddressPatch):
            lengths = [m.max_length for m in schema.model_fields[field].metadata if hasattr(m, "max_length")]
            assert lengths == [limit], (schema.__name__, field)


#: Column names that hold money, in every module that has any.
MONEY_NAMES = re.compile(r"(^|_)(price|amount|total|subtotal|refunded)($|_)")


def money_mismatches(models: list[type[Model]]) -> list[str]:
    """Money columns that are not ``MoneyField`` and ``BIGINT`` columns that are not money."""
    found = []
    for model in models:
        for field in model._meta.sorted_fields:
            where = f"{model.__module__}.{model.__name__}.{field.name}"
            if MONEY_NAMES.search(field.name) and not isinstance(field, MoneyField):
                found.append(f"{where}: money, declare it as MoneyField")
            elif isinstance(field, BigIntegerField) and not isinstance(field, MoneyField):
                found.append(f"{where}: BIGINT that is not money (name it, or use MoneyField)")
    return found


def test_every_money_column_is_a_money_field() -> None:
    models = [model for module in discover().values() for model in module.models]
    assert len(models) > 15  # every module's models were read
    assert not money_mismatches(models), "\n".join(money_mismatches(models))
    money = [f for m in models for f in m._meta.sorted_fields if isinstance(f, MoneyField)]
    assert {f.model.__name__ for f in money} >= {"Product", "Order", "OrderItem", "Payment", "Refund", "SearchDocument"}


def test_the_money_check_catches_a_32_bit_price() -> None:
    class Planted(Model):
        unit_price = IntegerField()
        refunded_amount = MoneyField()
        big = BigIntegerField()

    assert money_mismatches([Planted]) == [
        f"{__name__}.Planted.unit_price: money, declare it as MoneyField",
        f"{__name__}.Planted.big: BIGINT that is not money (name it, or use MoneyField)",
    ]
