"""Input rules for accounts, in the domain so the HTTP API, the CLI and scripts apply the same ones."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from ecommerce.kernel.errors import FieldError, ValidationFailed

PASSWORD_MIN, PASSWORD_MAX = 8, 128
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def email_error(email: str) -> str | None:
    try:
        validate_email(email, check_deliverability=False)  # no DNS: sign-up must not depend on the network
    except EmailNotValidError as exc:
        return str(exc)
    return None


def password_error(password: str) -> str | None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"Must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long."
    return None


def phone_error(phone: str) -> str | None:
    if not E164.match(phone):
        return "Must be in E.164 format, e.g. +14155550123."
    return None


def check_registration(email: str, password: str, phone: str | None) -> None:
    """Raise one :class:`ValidationFailed` listing every bad field."""
    errors = []
    if (message := email_error(email)) is not None:
        errors.append(FieldError("email", message))
    if (message := password_error(password)) is not None:
        errors.append(FieldError("password", message))
    if phone is not None and (message := phone_error(phone)) is not None:
        errors.append(FieldError("phone", message))
    if errors:
        raise ValidationFailed("The account details are invalid.", errors=errors)
