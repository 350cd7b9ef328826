"""The payments module's settings and what it works with once started.

Its one setting, the card key ring (``ECOMMERCE_PAYMENTS_KEYS``, or the older ``ECOMMERCE_PAYMENT_KEYS``,
which keeps working; ``keys`` in the config file's ``[payments]`` table), is read and checked at start-up;
the module's setup builds the card vault from it and keeps the vault and the gateway adapter here."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.module import ModuleContext, Runtime
from ecommerce.kernel.module_settings import setting
from ecommerce.modules.payments.gateway import Gateway, SimulatedGateway
from ecommerce.modules.payments.vault import Vault, load_ring, parse_keys


@dataclass(frozen=True)
class PaymentsSettings:
    keys: str | None = setting(None, parse_keys, legacy="ECOMMERCE_PAYMENT_KEYS", secret=True,
                               doc="the card key ring, kid:base64(32 bytes),... (the first encrypts); "
                                   "unset: <data dir>/payment-keys.json, refused in production")


@dataclass
class Config:
    vault: Vault
    gateway: Gateway


runtime: Runtime[Config] = Runtime("payments")


def get() -> Config:
    return runtime.get()


def setup(context: ModuleContext[PaymentsSettings]) -> None:
    """The module's start: the vault (its key ring, its fingerprint key) and the gateway adapter."""
    keys, env, data_dir = context.settings.keys, context.env, context.data_dir
    vault = Vault(load_ring(keys, env, data_dir), context.derive_key("payments:fingerprint"),
                  reload=lambda: load_ring(keys, env, data_dir))
    runtime.start(Config(vault=vault, gateway=SimulatedGateway()))
