"""What the users module works with once started: the password hasher, the token signer and key ring, the
refresh-token lifetime and the kernel's memory of checked tokens, built by the module's setup and kept here.

Its knobs (password hashing cost, token lifetimes, key rotation grace) are the kernel's settings, which the
kernel's token signer shares; the setup reads them from ``ModuleContext.kernel_settings``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecommerce.kernel.module import ModuleContext, Runtime
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.kernel.security.principal_cache import PrincipalCache
from ecommerce.kernel.security.tokens import TokenSigner
from ecommerce.modules.users.keyring import KeyStore


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


def setup(context: ModuleContext[Any]) -> None:
    """The module's start: the key ring signs the kernel's tokens; sessions are checked on every request."""
    from ecommerce.modules.users import sessions

    kernel_settings = context.kernel_settings
    keys = KeyStore(context.secret, kernel_settings.key_rotation_grace)
    context.tokens.use_loader(keys.load)
    runtime.start(Config(hasher=PasswordHasher.from_settings(kernel_settings), tokens=context.tokens, keys=keys,
                         refresh_ttl=kernel_settings.refresh_token_ttl, principals=context.principals))
    context.add_principal_check(sessions.check_principal)


def remote_setup(context: ModuleContext[Any]) -> None:
    """Users is hosted by another service: tokens are checked there (key ring and sessions in one call)."""
    from ecommerce.modules.users import api

    context.verify_tokens_with(api.authenticate)
