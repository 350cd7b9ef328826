"""The payments module's settings: what it works with once started, set by the module's setup: the card
vault (its key ring read from ``ECOMMERCE_PAYMENT_KEYS``) and the gateway adapter."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.modules.payments.gateway import Gateway
from ecommerce.modules.payments.vault import Vault


@dataclass
class Config:
    vault: Vault
    gateway: Gateway


_config: Config | None = None


def configure(config: Config) -> None:
    global _config
    _config = config


def get() -> Config:
    if _config is None:
        raise RuntimeError("payments module is not set up: start the kernel with ecommerce.bootstrap()")
    return _config
