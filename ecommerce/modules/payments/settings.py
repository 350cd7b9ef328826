"""The payments module's runtime wiring: the vault and the gateway adapter (set by the module's setup)."""

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
