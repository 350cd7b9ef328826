"""Storefront: the shop as customers and operators meet it — server-rendered HTML pages (Jinja2 through
Sanic Extensions' templating, htmx for in-place updates) at the site's root.

It owns no domain tables and calls the other modules only through their ``api`` facades, so it follows
the same import contracts as any module and can be disabled like one (``ECOMMERCE_DISABLED_MODULES=
storefront``: the JSON API alone remains). Pages of a module that is disabled answer 404.
"""

from __future__ import annotations

from ecommerce.kernel.module import Module

module = Module.of(
    __name__,
    description="The shop's web pages: browse, search, cart, checkout, pay, orders, and admin pages",
    site=True,
    requires=("users", "catalog"),
    lacks={
        "api": "no other module calls it: it is the shop's pages over the other modules' facades",
        "events": "publishes no integration events: every change goes through another module's api",
        "models": "owns no tables: what it shows belongs to the other modules",
        "migrations": "owns no tables, so nothing to migrate",
        "reactions": "reacts to no event: each page reads the current state",
        "cli": "no commands of its own",
        "schemas": "answers HTML forms, not JSON: the form fields are read in http.py",
    },
)
