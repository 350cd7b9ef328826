"""Users & auth: accounts, addresses, login sessions, the token key ring and the checks every other
module relies on."""

from __future__ import annotations

from pathlib import Path

from ecommerce.kernel.module import Module
from ecommerce.modules.users import settings
from ecommerce.modules.users.events import UserRegistered
from ecommerce.modules.users.models import MODELS, database, events
from ecommerce.modules.users.seed import seed

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
    settings=settings.UsersSettings,
    setup=settings.setup,
    facade="ecommerce.modules.users.api",
    remote_setup=settings.remote_setup,
    lacks={"reactions": "reacts to no event: the other modules ask it, through its api"},
)
