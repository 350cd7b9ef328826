"""``Statement``: compiled once, bound many times, same rows as the peewee query it was built from."""

from __future__ import annotations

from pathlib import Path

import pytest
from peewee import CharField, DatabaseProxy, IntegerField, Model, SqliteDatabase

from ecommerce.kernel.statements import Statement

proxy = DatabaseProxy()


class Item(Model):
    name = CharField()
    price = IntegerField()

    class Meta:
        database = proxy


def test_binds_each_call_and_compiles_once(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "t.db"))
    proxy.initialize(db)
    db.create_tables([Item])
    Item.insert_many([{"name": n, "price": p} for n, p in [("lamp", 10), ("desk", 50), ("lamp", 70)]]).execute()
    built = []

    def build(name: str, ceiling: int) -> object:
        built.append(name)
        return Item.select(Item.name, Item.price).where((Item.name == name) & (Item.price < ceiling)).order_by(
            Item.price)

    cheap = Statement(proxy, build, str, int)
    assert cheap.rows("lamp", 100) == [("lamp", 10), ("lamp", 70)]
    assert cheap.rows("lamp", 50) == [("lamp", 10)]
    assert cheap.rows("desk", 100) == [("desk", 50)]
    assert cheap.rows("chair", 100) == []
    assert len(built) == 1  # compiled on first use only

    other = SqliteDatabase(str(tmp_path / "other.db"))  # re-bound proxy (tests, carved-out module): recompiled
    proxy.initialize(other)
    other.create_tables([Item])
    assert cheap.rows("lamp", 100) == []
    assert len(built) == 2


def test_a_converted_parameter_is_refused(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "t.db"))
    proxy.initialize(db)
    db.create_tables([Item])
    upper = Statement(proxy, lambda name: Item.select().where(Item.name == name.upper()), str)
    with pytest.raises(ValueError, match="converted"):
        upper.rows("lamp")


def test_without_kinds_each_parameter_of_the_builder_is_an_int(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "t.db"))
    proxy.initialize(db)
    db.create_tables([Item])
    Item.insert_many([{"name": "lamp", "price": p} for p in (10, 50, 70)]).execute()
    between = Statement(proxy, lambda low, high: Item.select(Item.price).where(
        (Item.price > low) & (Item.price < high)).order_by(Item.price))
    assert between.rows(20, 80) == [(50,), (70,)]
    added = Statement(proxy, lambda *values: Item.insert_many(
        [values[i:i + 2] for i in range(0, len(values), 2)], fields=[Item.name, Item.price]).as_rowcount(),
        str, int, str, int)
    assert added.execute("desk", 5, "chair", 6) == 2  # a multi-row insert, compiled for its count
    assert between.rows(0, 8) == [(5,), (6,)]
