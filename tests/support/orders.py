"""Helpers for order tests: a shopper with an address and a filled cart, through the real use cases."""

from __future__ import annotations

import itertools
from typing import Any

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.modules.orders import cart
from ecommerce.modules.users import addresses, api

_people = itertools.count(1)
ADDRESS = {"street": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701", "country": "US"}


def shopper(kernel: Kernel) -> tuple[int, int]:
    """A new user with one address: (user id, address id)."""
    user = kernel.runner.call(api.register, f"shopper{next(_people)}@example.com", "shopping-password-1")
    address = kernel.runner.call(addresses.create, user.id, dict(ADDRESS))
    return int(user.id), int(address.id)


def fill(kernel: Kernel, user_id: int, *lines: tuple[int, int]) -> Any:
    for product_id, quantity in lines:
        kernel.runner.call(cart.add, user_id, product_id, quantity)
    return kernel.runner.call(cart.view, user_id)
