"""Password storage and the login oracle."""

from __future__ import annotations

import pytest

from ecommerce.modules.users import accounts
from ecommerce.modules.users.models import User
from tests.support.api import PASSWORD, assert_problem, new_email, register
from tests.support.shop import Shop

LOGIN = "/api/v1/auth/login"


def test_hashes_are_argon2id_and_salted(shop: Shop) -> None:
    a = register(shop.client, password=PASSWORD)
    b = register(shop.client, password=PASSWORD)
    hashes = shop.kernel.runner.call(
        lambda: [u.hashed_password for u in User.select().where(User.id.in_([a["id"], b["id"]]))]
    )
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert hashes[0] != hashes[1]
    assert all(PASSWORD not in h for h in hashes)


def test_unknown_email_and_wrong_password_get_identical_answers(shop: Shop) -> None:
    user = register(shop.client)
    wrong = shop.client.post(LOGIN, json={"email": user["email"], "password": "not-the-password"})
    unknown = shop.client.post(LOGIN, json={"email": new_email(), "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    same = ("content-type", "cache-control", "www-authenticate")
    assert {h: wrong.headers.get(h) for h in same} == {h: unknown.headers.get(h) for h in same}


@pytest.mark.parametrize("password", ["x" * 10_000, "y" * 129])
def test_overlong_password_is_400_without_being_hashed(shop: Shop, password: str) -> None:
    hasher = accounts.config().hasher
    calls = []
    original = hasher.hash
    hasher.hash = lambda value: calls.append(value) or original(value)  # type: ignore[method-assign]
    try:
        response = shop.client.post("/api/v1/auth/register", json={"email": new_email(), "password": password})
    finally:
        hasher.hash = original  # type: ignore[method-assign]
    assert_problem(response, 400, "password")
    assert calls == []


@pytest.mark.parametrize("password", ["password", "iloveyou", "PASSWORD", "1qaz2wsx", "12345678"])
def test_common_passwords_are_refused(shop: Shop, password: str) -> None:
    response = shop.client.post("/api/v1/auth/register", json={"email": new_email(), "password": password})
    assert_problem(response, 400, "password")
