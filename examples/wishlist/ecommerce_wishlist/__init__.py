"""Wishlist: the example module of CONTRIBUTING.md. A user keeps a list of products; the list forgets a
product the catalog deletes. Everything the kernel needs is in ``module`` below."""

from __future__ import annotations

from ecommerce.kernel.module import Module

module = Module.of(
    __name__,  # its files give the rest: events.py, models.py, migrations/, http.py, reactions.py, settings.py
    name="wishlist",  # the package is ecommerce_wishlist; the module's name is its own
    description="Products a user wishes for, forgotten when the catalog deletes them",
    requires=("users", "catalog"),
    lacks={"cli": "no commands of its own"},  # roles it has no file for
)
