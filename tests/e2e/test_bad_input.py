"""Bad input on register/login gets problem details (never a 500) and loses nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import assert_problem, new_email, register
from tests.support.shop import Shop


@pytest.fixture
def client(shared_shop: Shop) -> httpx.Client:
    """One server per layout for this module: every test here sends input that must change nothing, or
    registers an account of its own."""
    return shared_shop.client

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["email", "password"]),
        ({"email": "a@example.com"}, ["password"]),
        ({"email": 5, "password": "long-enough-pw"}, ["email"]),
        ({"email": "a@example.com", "password": ["x"]}, ["password"]),
        ({"email": None, "password": None}, ["email", "password"]),
        ({"email": "not-an-email", "password": "long-enough-pw"}, ["email"]),
        ({"email": "a@example.com", "password": "short"}, ["password"]),
        ({"email": "a@example.com", "password": "x" * 200}, ["password"]),
        ({"email": "a@example.com", "password": "long-enough-pw", "phone": "0800 FLOWERS"}, ["phone"]),
        ({"email": "a@" + "x" * 300 + ".com", "password": "long-enough-pw"}, ["email"]),
    ],
)
def test_register_field_errors(client: httpx.Client, body: dict[str, object], fields: list[str]) -> None:
    assert_problem(client.post(REGISTER, json=body), 400, *fields)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2, 3]", b'"just a string"', b"", b"null", b"\xff\xfe"],
)
def test_malformed_bodies(client: httpx.Client, raw: bytes) -> None:
    for path in (REGISTER, LOGIN):
        assert_problem(client.post(path, content=raw, headers={"content-type": "application/json"}), 400)


def test_login_field_errors(client: httpx.Client) -> None:
    assert_problem(client.post(LOGIN, json={"email": "a@example.com"}), 400, "password")
    assert_problem(client.post(LOGIN, json={"email": 1, "password": 2}), 400, "email", "password")


def test_two_megabyte_body_is_rejected_with_413(client: httpx.Client) -> None:
    big = {"email": new_email(), "password": "x" * (2 * 1024 * 1024)}
    response = client.post(REGISTER, json=big)
    assert_problem(response, 413)


def test_bad_input_loses_nothing(client: httpx.Client) -> None:
    email = new_email()
    assert_problem(client.post(REGISTER, json={"email": email, "password": "short"}), 400)
    register(client, email)  # the failed attempt left no half-created account behind
    assert_problem(client.post(REGISTER, json={"email": email, "password": "long-enough-pw"}), 409)


def test_unknown_route_and_wrong_method(client: httpx.Client) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.get(REGISTER), 405)
    assert_problem(client.delete("/api/v1/users/me"), 405)


def test_nul_characters_are_400_not_500(client: httpx.Client) -> None:
    body = {"email": "nul\x00@example.com", "password": "long-enough-pw"}
    assert_problem(client.post(REGISTER, json=body), 400, "email")
    assert_problem(client.post(REGISTER, json={"email": "a@example.com", "password": "pw\x00" * 5}), 400)
    assert_problem(client.get("/api/v1/products", params={"q": "a\x00b"}), 400, "q")
