"""The card vault: AES-GCM encryption of card numbers under a key ring that never enters the database.

Keys come from the module's ``keys`` setting (``ECOMMERCE_PAYMENTS_KEYS``, or its older name
``ECOMMERCE_PAYMENT_KEYS``: ``kid:base64key,...``, the first one encrypts) or, for a new hire's laptop,
from ``<data dir>/payment-keys.json`` (created with mode 0600). Each ciphertext records its key id; the
associated data binds it to its token *and* its owner, so a ciphertext copied onto another row — or
tampered with — fails to decrypt instead of yielding a number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ecommerce.kernel.errors import Conflict
from ecommerce.kernel.settings import SettingsError

KEY_FILE = "payment-keys.json"


class CardDataUnreadable(Conflict):
    slug, title = "card-data-unreadable", "Card data cannot be read"


@dataclass
class KeyRing:
    keys: dict[str, bytes]
    active: str
    path: Path | None = None  # where it is kept when it is the development file

    def save(self) -> None:
        if self.path is None:
            raise RuntimeError("the payment keys come from the environment (ECOMMERCE_PAYMENTS_KEYS): "
                               "update them there")
        data = {"active": self.active, "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()}}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        tmp.replace(self.path)


def parse_keys(source: str, value: object) -> str:
    """The validator of the ``keys`` setting: ``kid:base64key,...``, each key 32 bytes (checked at start-up)."""
    text = str(value).strip()
    _parse(source, text)
    return text


def _parse(source: str, text: str) -> KeyRing:
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        kid, _, encoded = item.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            key = b""
        if not kid or len(key) != 32:
            raise SettingsError(f"{source}: each entry is kid:base64 of 32 random bytes")
        keys[kid] = key
    if not keys:
        raise SettingsError(f"{source}: no keys")
    return KeyRing(keys, next(iter(keys)))


def load_ring(keys: str | None, env: str, data_dir: Path) -> KeyRing:
    """The ring from the ``keys`` setting when set, else (never in production) the development key file."""
    if keys:
        return _parse("ECOMMERCE_PAYMENTS_KEYS", keys)
    if env == "production":
        raise SettingsError("ECOMMERCE_PAYMENTS_KEYS: required when ECOMMERCE_ENV=production "
                            "(ECOMMERCE_PAYMENT_KEYS, its older name, works too)")
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ring = KeyRing({"k1": secrets.token_bytes(32)}, "k1", path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # first worker wins
            os.close(fd)
            ring.save()
        except FileExistsError:
            pass
    data = json.loads(path.read_text())
    return KeyRing({k: base64.b64decode(v) for k, v in data["keys"].items()}, data["active"], path)


class Vault:
    def __init__(self, ring: KeyRing, fingerprint_key: bytes, reload: Callable[[], KeyRing] | None = None) -> None:
        self.ring = ring
        self._fingerprint_key = fingerprint_key
        self._reload = reload

    @staticmethod
    def _aad(token: str, user_id: int) -> bytes:
        return f"{token}:{user_id}".encode()

    def seal(self, number: str, token: str, user_id: int) -> tuple[str, bytes]:
        nonce = os.urandom(12)
        sealed = AESGCM(self.ring.keys[self.ring.active]).encrypt(nonce, number.encode(), self._aad(token, user_id))
        return self.ring.active, nonce + sealed

    def open(self, key_id: str, blob: bytes, token: str, user_id: int) -> str:
        key = self.ring.keys.get(key_id)
        if key is None and self._reload is not None:
            self.ring = self._reload()  # `rotate-keys` ran elsewhere: pick up the new ring
            key = self.ring.keys.get(key_id)
        if key is None:
            raise CardDataUnreadable("The card was encrypted with a key this server does not have.")
        try:
            data = bytes(blob)
            return AESGCM(key).decrypt(data[:12], data[12:], self._aad(token, user_id)).decode()
        except (InvalidTag, ValueError):
            raise CardDataUnreadable("The stored card data failed its integrity check.") from None

    def fingerprint(self, number: str) -> str:
        return hmac.new(self._fingerprint_key, number.encode(), hashlib.sha256).hexdigest()
