"""The users module's settings and what it works with once started.

Its settings (password hashing cost, the login session's lifetime, the signing keys' rotation grace) are
read at start-up from ``ECOMMERCE_USERS_*`` (or the older names without ``USERS_``, which keep working)
and the config file's ``[users]`` table. The module's setup builds from them, and from the kernel's token
signer and principal cache, the password hasher and the key ring, and keeps them here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecommerce.kernel.module import ModuleContext, Runtime
from ecommerce.kernel.module_settings import number, setting
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.kernel.security.principal_cache import PrincipalCache
from ecommerce.kernel.security.tokens import TokenSigner
from ecommerce.modules.users.keyring import KeyStore


@dataclass(frozen=True)
class UsersSettings:
    refresh_token_ttl: int = setting(30 * 24 * 3600, number(int, 60, 365 * 24 * 3600),
                                     legacy="ECOMMERCE_REFRESH_TOKEN_TTL",
                                     doc="seconds a login session (its refresh token) lives; refreshing does not "
                                         "extend it")
    key_rotation_grace: int = setting(24 * 3600, number(int, 0, 30 * 24 * 3600), legacy="ECOMMERCE_KEY_ROTATION_GRACE",
                                      doc="seconds an older signing key keeps verifying once a newer one exists")
    argon2_time_cost: int = setting(2, number(int, 1, 20), legacy="ECOMMERCE_ARGON2_TIME_COST",
                                    doc="argon2id iterations")
    argon2_memory_cost: int = setting(19 * 1024, number(int, 8, 4 * 1024 * 1024), legacy="ECOMMERCE_ARGON2_MEMORY_COST",
                                      doc="argon2id memory, KiB")
    argon2_parallelism: int = setting(1, number(int, 1, 16), legacy="ECOMMERCE_ARGON2_PARALLELISM",
                                      doc="argon2id lanes")

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(self.argon2_time_cost, self.argon2_memory_cost, self.argon2_parallelism)


@dataclass
class Config:
    hasher: PasswordHasher
    tokens: TokenSigner
    keys: KeyStore
    refresh_ttl: int
    #: The kernel's memory of recently checked tokens: forgotten after every revocation commits.
    principals: PrincipalCache = field(default_factory=lambda: PrincipalCache(0))


runtime: Runtime[Config] = Runtime("users")


def get() -> Config:
    return runtime.get()


def setup(context: ModuleContext[UsersSettings]) -> None:
    """The module's start: the key ring signs the kernel's tokens; sessions are checked on every request."""
    from ecommerce.modules.users import sessions

    settings = context.settings
    keys = KeyStore(context.secret, settings.key_rotation_grace)
    context.tokens.use_loader(keys.load)
    runtime.start(Config(hasher=settings.hasher(), tokens=context.tokens, keys=keys,
                         refresh_ttl=settings.refresh_token_ttl, principals=context.principals))
    context.add_principal_check(sessions.check_principal)


def remote_setup(context: ModuleContext[Any]) -> None:
    """Users is hosted by another service: tokens are checked there (key ring and sessions in one call)."""
    from ecommerce.modules.users import api

    context.verify_tokens_with(api.authenticate)
