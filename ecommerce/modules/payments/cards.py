"""Card-number rules: Luhn check, brand, expiry. Pure functions; nothing here stores anything."""

from __future__ import annotations

import datetime
import re

from ecommerce.kernel.errors import FieldError, ValidationFailed

DIGITS = re.compile(r"^\d{13,19}$")
BRANDS = (("amex", ("34", "37")), ("visa", ("4",)), ("mastercard", tuple(str(n) for n in range(51, 56)) +
          tuple(str(n) for n in range(2221, 2721))), ("discover", ("6011", "65")))


def luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand(number: str) -> str:
    for name, prefixes in BRANDS:
        if number.startswith(prefixes):
            return name
    return "card"


def clean_number(raw: object) -> str:
    """Digits only (spaces and dashes allowed in input); a bad number is a 400 that never echoes it."""
    text = re.sub(r"[\s-]", "", raw) if isinstance(raw, str) else ""
    if not DIGITS.match(text) or not luhn_ok(text):
        raise ValidationFailed("The card number is not valid.",
                               errors=[FieldError("card_number", "Not a valid card number.")])
    return text


def check_expiry(month: object, year: object, today: datetime.date | None = None) -> datetime.datetime:
    """The end of the expiry month; 400 if it is malformed or already past."""
    now = today or datetime.date.today()
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise ValidationFailed("Invalid expiry month.", errors=[FieldError("exp_month", "1 to 12.")])
    if not isinstance(year, int) or isinstance(year, bool) or not now.year <= year <= now.year + 25:
        raise ValidationFailed("Invalid expiry year.", errors=[FieldError("exp_year", "This year or later.")])
    first_next = datetime.datetime(year + (month == 12), month % 12 + 1, 1)
    if first_next.date() <= now:
        raise ValidationFailed("The card has expired.", errors=[FieldError("exp_month", "The card has expired.")])
    return first_next - datetime.timedelta(seconds=1)


def check_cvc(cvc: object, card_brand: str | None = None) -> str:
    length = (4,) if card_brand == "amex" else (3, 4)
    if not isinstance(cvc, str) or not cvc.isdigit() or len(cvc) not in length:
        raise ValidationFailed("Invalid security code.", errors=[FieldError("cvc", "3 or 4 digits.")])
    return cvc
