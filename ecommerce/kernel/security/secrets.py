"""The application secret: given in production, generated once and kept in the data directory otherwise.

Why generate: a new hire must be able to run the app with no configuration, and tokens must survive a
restart; why refuse in production: a secret that lives next to the data is not a managed secret.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ecommerce.kernel.settings import Settings, SettingsError

SECRET_FILE = "secret.key"


def application_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    if settings.env == "production":
        raise SettingsError("ECOMMERCE_SECRET_KEY: required when ECOMMERCE_ENV=production")
    path = Path(settings.data_dir) / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    # O_EXCL: when two workers start at once, exactly one writes; the other reads its value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
