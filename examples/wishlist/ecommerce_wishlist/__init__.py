"""Wishlist: the example module of CONTRIBUTING.md. A user keeps a list of products; the list forgets a
product the catalog deletes. Everything the kernel needs is in ``module`` below."""

from __future__ import annotations

from pathlib import Path

from ecommerce.kernel.module import Module
from ecommerce_wishlist.events import ProductWished
from ecommerce_wishlist.models import MODELS, database, events
from ecommerce_wishlist.reactions import SUBSCRIPTIONS
from ecommerce_wishlist.settings import WishlistSettings, setup

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
    settings=WishlistSettings,  # read from ECOMMERCE_WISHLIST_* and [wishlist], handed to setup
    setup=setup,  # the one way in: its settings and the kernel's services (a ModuleContext)
    lacks={"cli": "no commands of its own"},  # roles it has no file for
)
