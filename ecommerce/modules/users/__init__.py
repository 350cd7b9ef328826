"""Users & auth: accounts, password login, sessions and the token checks every other module relies on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ecommerce.kernel.module import Module
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.modules.users import service
from ecommerce.modules.users.events import UserRegistered
from ecommerce.modules.users.models import MODELS, database, events
from ecommerce.modules.users.seed import seed

if TYPE_CHECKING:
    from ecommerce.kernel.bootstrap import Kernel


def _setup(kernel: Kernel) -> None:
    service.configure(
        service.Config(
            hasher=PasswordHasher.from_settings(kernel.settings),
            tokens=kernel.tokens,
            refresh_ttl=kernel.settings.refresh_token_ttl,
        )
    )
    kernel.principal_checks.append(service.check_principal)


module = Module(
    name="users",
    description="Accounts, login sessions and access-token checks",
    database=database,
    events=events,
    models=MODELS,
    migrations=Path(__file__).parent / "migrations",
    blueprint="ecommerce.modules.users.http:build_blueprint",
    publishes=[UserRegistered],
    seed=seed,
    setup=_setup,
)
