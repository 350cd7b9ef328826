"""Categories (a tree) and brands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from peewee import IntegrityError

from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.modules.catalog import caching
from ecommerce.modules.catalog.events import BrandChanged, CategoryChanged
from ecommerce.modules.catalog.models import Brand, Category, Product, database, events
from ecommerce.modules.catalog.rules import slugify


def _name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
        raise ValidationFailed("Invalid name.", errors=[FieldError(field, "1 to 100 characters.")])
    return value.strip()


@contextmanager
def _named_once(kind: str) -> Iterator[None]:
    """A transaction that writes a category's or a brand's name, which is unique: the database's refusal
    of a second one becomes a 409."""
    try:
        with database.atomic():
            yield
    except IntegrityError:
        raise Conflict(f"A {kind} with this name already exists.") from None


def category_tree() -> list[dict[str, Any]]:
    """Every category with its parent and children ids, cached (one query on a miss)."""

    def load() -> list[dict[str, Any]]:
        rows = list(Category.select(Category.id, Category.name, Category.slug, Category.parent).order_by(Category.name))
        children: dict[int | None, list[int]] = {}
        for row in rows:
            children.setdefault(row.parent_id, []).append(row.id)
        return [
            {"id": r.id, "name": r.name, "slug": r.slug, "parent_id": r.parent_id, "children": children.get(r.id, [])}
            for r in rows
        ]

    tree: list[dict[str, Any]] = caching.get_or_load(caching.TREE_KEY, load)
    return tree


def resolve_category(ref: str) -> list[int]:
    """A category given by id or slug, with all its descendants (filtering by "Shoes" finds "Running shoes")."""
    tree = category_tree()
    by_id = {c["id"]: c for c in tree}
    start = next((c for c in tree if str(c["id"]) == ref or c["slug"] == ref), None)
    if start is None:
        raise ValidationFailed("Unknown category.", errors=[FieldError("category", f"No category {ref!r}.")])
    found, stack = [], [start["id"]]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(by_id[current]["children"])
    return found


def create_category(name: Any, parent_id: Any = None) -> Category:
    clean = _name(name)
    if parent_id is not None and Category.get_or_none(Category.id == parent_id) is None:
        raise ValidationFailed("Unknown parent.", errors=[FieldError("parent_id", "No such category.")])
    with _named_once("category"):
        category = Category.create(name=clean, slug=slugify(clean), parent=parent_id)
    caching.forget_tree()
    return category


def update_category(category_id: int, name: Any = None, parent_id: Any = ..., *, rename: bool) -> Category:
    category = Category.get_or_none(Category.id == category_id)
    if category is None:
        raise NotFound("No such category.")
    changes: dict[str, Any] = {}
    if rename:
        changes.update(name=_name(name), slug=slugify(_name(name)))
    if parent_id is not ...:
        if parent_id is not None:
            ancestors = {category_id}
            cursor = parent_id
            while cursor is not None:  # refuse cycles: a category cannot move under its own subtree
                if cursor in ancestors:
                    raise ValidationFailed("That would make a cycle.", errors=[FieldError("parent_id", "Cycle.")])
                parent = Category.get_or_none(Category.id == cursor)
                if parent is None:
                    raise ValidationFailed("Unknown parent.", errors=[FieldError("parent_id", "No such category.")])
                ancestors.add(cursor)
                cursor = parent.parent_id
        changes["parent"] = parent_id
    if changes:
        with _named_once("category"):
            Category.update(**changes).where(Category.id == category_id).execute()
            if rename:  # in the same transaction: the read models' refresh cannot be lost
                events.publish(CategoryChanged(category_id=category_id, category_name=changes["name"]))
        caching.forget_everything()
    return Category.get_by_id(category_id)


def delete_category(category_id: int) -> None:
    with database.atomic():
        if Category.select().where(Category.parent == category_id).exists():
            raise Conflict("The category has sub-categories; move or delete them first.")
        Product.update(category=None).where(Product.category == category_id).execute()
        if Category.delete().where(Category.id == category_id).execute() != 1:
            raise NotFound("No such category.")
        events.publish(CategoryChanged(category_id=category_id, category_name=None))
    caching.forget_everything()


def list_brands() -> list[dict[str, Any]]:
    """Every brand as ``{"id", "name"}``, by name."""
    return [{"id": b.id, "name": b.name} for b in Brand.select(Brand.id, Brand.name).order_by(Brand.name)]


def create_brand(name: Any) -> Brand:
    with _named_once("brand"):
        brand: Brand = Brand.create(name=_name(name))
    return brand


def update_brand(brand_id: int, name: Any) -> Brand:
    new_name = _name(name)
    with _named_once("brand"):
        if Brand.update(name=new_name).where(Brand.id == brand_id).execute() != 1:
            raise NotFound("No such brand.")
        events.publish(BrandChanged(brand_id=brand_id, brand_name=new_name))
    caching.forget_everything()
    return Brand.get_by_id(brand_id)


def delete_brand(brand_id: int) -> None:
    with database.atomic():
        Product.update(brand=None).where(Product.brand == brand_id).execute()
        if Brand.delete().where(Brand.id == brand_id).execute() != 1:
            raise NotFound("No such brand.")
        events.publish(BrandChanged(brand_id=brand_id, brand_name=None))
    caching.forget_everything()
