"""Wishlist: the example module of CONTRIBUTING.md. A user keeps a list of products; the list forgets a
product the catalog deletes. Everything the kernel needs is in ``module`` below."""

from __future__ import annotations

from pathlib import Path

from ecommerce.kernel.module import Module
from ecommerce_wishlist.events import ProductWished
from ecommerce_wishlist.models import MODELS, database, events
from ecommerce_wishlist.reactions import SUBSCRIPTIONS

module = Module(
    name="wishlist",
    description="Products a user wishes for, forgotten when the catalog deletes them",
    database=database,
    events=events,
    models=MODELS,
    migrations=Path(__file__).parent / "migrations",
    blueprint="ecommerce_wishlist.http:build_blueprint",  # a string: importing the module never imports Sanic
    publishes=[ProductWished],
    subscriptions=SUBSCRIPTIONS,
    requires=("users", "catalog"),
    lacks={"settings": "nothing to configure", "cli": "no commands of its own"},  # roles it has no file for
)
