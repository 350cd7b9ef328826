"""Users & auth: accounts, addresses, login sessions, the token key ring and the checks every other
module relies on."""

from __future__ import annotations

from ecommerce.kernel.module import Module
from ecommerce.modules.users.seed import seed

module = Module.of(
    __name__,
    description="Accounts, addresses, login sessions and access-token checks",
    seed=seed,
    facade="ecommerce.modules.users.api",
    lacks={"reactions": "reacts to no event: the other modules ask it, through its api"},
)
