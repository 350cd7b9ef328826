"""Users & auth: accounts, addresses, login sessions, the token key ring and the checks every other
module relies on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ecommerce.kernel.module import Module
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.modules.users import accounts, sessions
from ecommerce.modules.users.events import UserRegistered
from ecommerce.modules.users.keyring import KeyStore
from ecommerce.modules.users.models import MODELS, database, events
from ecommerce.modules.users.seed import seed

if TYPE_CHECKING:
    from ecommerce.kernel.bootstrap import Kernel


def _setup(kernel: Kernel) -> None:
    keys = KeyStore(kernel.secret, kernel.settings.key_rotation_grace)
    kernel.tokens.use_loader(keys.load)
    accounts.configure(
        accounts.Config(
            hasher=PasswordHasher.from_settings(kernel.settings),
            tokens=kernel.tokens,
            keys=keys,
            refresh_ttl=kernel.settings.refresh_token_ttl,
            principals=kernel.principals,
        )
    )
    kernel.principal_checks.append(sessions.check_principal)


def _remote_setup(kernel: Kernel) -> None:
    """Users is hosted by another service: tokens are checked there (key ring and sessions in one call)."""
    from ecommerce.modules.users import api

    kernel.verify_token = api.authenticate


module = Module(
    name="users",
    description="Accounts, addresses, login sessions and access-token checks",
    database=database,
    events=events,
    models=MODELS,
    migrations=Path(__file__).parent / "migrations",
    blueprint="ecommerce.modules.users.http:build_blueprint",
    publishes=[UserRegistered],
    seed=seed,
    cli="ecommerce.modules.users.cli:add_commands",
    setup=_setup,
    facade="ecommerce.modules.users.api",
    remote_setup=_remote_setup,
    lacks={"reactions": "reacts to no event: the other modules ask it, through its api",
           "settings": "what it is configured with (password hashing, token lifetimes) is still the kernel's "
                       "settings, handed over in setup"},
)
