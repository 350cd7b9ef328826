"""The access-token key ring, kept in ``signing_keys`` so every worker and instance shares it.

Why in the database, encrypted: key material never sits in plain text at rest (AES-GCM under a key
derived from the application secret, the ``kid`` bound as associated data), and a rotation made by
``ecommerce auth rotate-key`` on one machine reaches every worker within a minute (or at once, when a
worker sees a token with an unknown ``kid``).

Rotation: the newest key signs; older keys keep verifying for ``key_rotation_grace`` seconds after a
newer one appears (longer than an access token lives), then they are retired.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import logging
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.security.tokens import KeyRing, derive_key
from ecommerce.modules.users.models import SigningKey, database

log = logging.getLogger("ecommerce.users")


class KeyStore:
    def __init__(self, secret: str, grace_seconds: int) -> None:
        self._aead = AESGCM(derive_key(secret, "users:signing-keys"))
        # Names the first key per secret, so workers racing to create it agree on one row.
        self._aead_id = derive_key(secret, "users:signing-keys:id")
        self.grace = datetime.timedelta(seconds=grace_seconds)

    def _seal(self, kid: str, key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, key, kid.encode())

    def _open(self, kid: str, sealed: bytes) -> bytes:
        return self._aead.decrypt(bytes(sealed[:12]), bytes(sealed[12:]), kid.encode())

    def _new_kid(self) -> str:
        return utcnow().strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)

    def rotate(self) -> str:
        """Add a new signing key (it signs from now on); retire keys past their grace period."""
        kid = self._new_kid()
        with database.atomic():
            SigningKey.create(kid=kid, encrypted_key=self._seal(kid, secrets.token_bytes(32)), created_at=utcnow())
        self.retire_expired()
        return kid

    def retire_expired(self) -> list[str]:
        """Retire every key whose successor was created more than the grace period ago."""
        now = utcnow()
        live = list(SigningKey.select().where(SigningKey.retired_at.is_null()).order_by(SigningKey.created_at))
        retired = []
        for older, newer in itertools.pairwise(live):
            if newer.created_at + self.grace <= now:
                SigningKey.update(retired_at=now).where(SigningKey.kid == older.kid).execute()
                retired.append(older.kid)
        return retired

    def _readable(self) -> dict[str, bytes]:
        """Live keys this secret can decrypt, oldest first. Keys sealed under a previous
        ``ECOMMERCE_SECRET_KEY`` are skipped: their tokens get 401, the app keeps working."""
        keys: dict[str, bytes] = {}
        live = (
            SigningKey.select().where(SigningKey.retired_at.is_null()).order_by(SigningKey.created_at, SigningKey.kid)
        )
        for row in live:
            try:
                keys[row.kid] = self._open(row.kid, row.encrypted_key)
            except InvalidTag:
                log.warning("signing key %s cannot be decrypted with this secret; ignoring it", row.kid)
        return keys

    def load(self) -> KeyRing:
        """The live keys (retiring those past their grace period); creates a key when none is usable,
        idempotently across racing workers."""
        self.retire_expired()
        keys = self._readable()
        if not keys:
            kid = f"initial-{hashlib.sha256(self._aead_id).hexdigest()[:8]}"
            SigningKey.insert(
                kid=kid, encrypted_key=self._seal(kid, secrets.token_bytes(32)), created_at=utcnow()
            ).on_conflict_ignore().execute()
            keys = self._readable()
        return KeyRing(keys, list(keys)[-1])

    def live_keys(self) -> list[tuple[str, datetime.datetime, bool]]:
        rows = list(SigningKey.select().order_by(SigningKey.created_at))
        return [(row.kid, row.created_at, row.retired_at is None) for row in rows]
