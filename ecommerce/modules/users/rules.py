"""Input rules for accounts and addresses, in the domain so the HTTP API, the CLI and scripts apply
the same ones."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from iso3166 import countries_by_alpha2

from ecommerce.kernel.errors import FieldError, ValidationFailed

PASSWORD_MIN, PASSWORD_MAX = 8, 128
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")  # ASCII digits: \\d also matches other scripts
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt"
ADDRESS_LIMITS = {"street": 200, "city": 100, "state": 100, "postal_code": 20}


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def email_error(email: str) -> str | None:
    try:
        validate_email(email, check_deliverability=False)  # no DNS: sign-up must not depend on the network
    except EmailNotValidError as exc:
        return str(exc)
    return None


def password_error(password: str) -> str | None:
    """Length first, so a 10 000-character password is refused before anything expensive happens."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"Must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long."
    if password.lower() in common_passwords():
        return "This password is one of the most common ones; choose another."
    return None


def phone_error(phone: str) -> str | None:
    if not E164.fullmatch(phone):
        return "Must be in E.164 format, e.g. +14155550123."
    return None


def raise_if(errors: list[FieldError], detail: str) -> None:
    if errors:
        raise ValidationFailed(detail, errors=errors)


def check_registration(email: str, password: str, phone: str | None) -> None:
    """Raise one :class:`ValidationFailed` listing every bad field."""
    errors = []
    if (message := email_error(email)) is not None:
        errors.append(FieldError("email", message))
    if (message := password_error(password)) is not None:
        errors.append(FieldError("password", message))
    if phone is not None and (message := phone_error(phone)) is not None:
        errors.append(FieldError("phone", message))
    raise_if(errors, "The account details are invalid.")


def check_password(password: str, field: str = "password") -> None:
    if (message := password_error(password)) is not None:
        raise ValidationFailed("The password is not acceptable.", errors=[FieldError(field, message)])


def check_phone(phone: str | None) -> None:
    if phone is not None and (message := phone_error(phone)) is not None:
        raise ValidationFailed("The phone number is invalid.", errors=[FieldError("phone", message)])


def clean_address(fields: dict[str, str | None], *, partial: bool = False) -> dict[str, str | None]:
    """Trimmed, validated address fields (country upper-cased ISO 3166-1 alpha-2)."""
    errors: list[FieldError] = []
    out: dict[str, str | None] = {}
    for name in ("street", "city", "state", "postal_code", "country"):
        if name not in fields:
            if not partial and name in ("street", "city", "country"):
                errors.append(FieldError(name, "Field required"))
            continue
        value = fields[name]
        value = value.strip() if isinstance(value, str) else None
        if name in ("street", "city", "country") and not value:
            errors.append(FieldError(name, "Must not be empty."))
            continue
        if name == "country":
            assert value is not None
            value = value.upper()
            if value not in countries_by_alpha2:
                errors.append(FieldError(name, "Must be an ISO 3166-1 alpha-2 country code, e.g. DE or US."))
                continue
        elif value is not None and len(value) > ADDRESS_LIMITS[name]:
            errors.append(FieldError(name, f"At most {ADDRESS_LIMITS[name]} characters."))
            continue
        out[name] = value or None
    raise_if(errors, "The address is invalid.")
    return out
