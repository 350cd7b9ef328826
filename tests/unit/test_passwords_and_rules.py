"""argon2id hashing and the account input rules."""

from __future__ import annotations

import pytest

from ecommerce.kernel.errors import ValidationFailed
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.modules.users.rules import check_registration

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = FAST.hash("a long password")
    assert hashed.startswith("$argon2id$")
    assert FAST.verify(hashed, "a long password")
    assert not FAST.verify(hashed, "a wrong password")
    assert not FAST.verify(None, "anything")
    assert not FAST.verify("garbage", "anything")


def test_needs_rehash_when_parameters_change() -> None:
    hashed = FAST.hash("a long password")
    assert not FAST.needs_rehash(hashed)
    assert PasswordHasher(time_cost=2, memory_cost=8, parallelism=1).needs_rehash(hashed)


@pytest.mark.parametrize(
    ("email", "password", "phone", "fields"),
    [
        ("ada@example.com", "long enough", None, set()),
        ("ada@example.com", "long enough", "+442071838750", set()),
        ("ada", "long enough", None, {"email"}),
        ("ada@example.com", "1234567", None, {"password"}),
        ("ada@example.com", "x" * 129, None, {"password"}),
        ("ada@example.com", "long enough", "442071838750", {"phone"}),
        ("", "", "+1", {"email", "password", "phone"}),
    ],
)
def test_registration_rules(email: str, password: str, phone: str | None, fields: set[str]) -> None:
    if not fields:
        check_registration(email, password, phone)
        return
    with pytest.raises(ValidationFailed) as caught:
        check_registration(email, password, phone)
    assert {e.field for e in caught.value.errors} == fields
