"""Register -> log in -> who am I, over real HTTP, on every database layout."""

from __future__ import annotations

import httpx

from tests.support.api import assert_problem, bearer, login, new_email, register


def test_register_login_me(client: httpx.Client) -> None:
    email = new_email()
    created = register(client, email.upper(), phone="+14155550123")
    assert created["email"] == email  # normalised
    assert created["role"] == "customer" and created["status"] == "active"
    assert "hashed_password" not in created and "password" not in created

    tokens = login(client, email)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert tokens["refresh_token"] and tokens["access_token"]

    me = client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json() == created
    assert me.headers["cache-control"] == "no-store"


def test_login_responses_are_not_cached(client: httpx.Client) -> None:
    user = register(client)
    response = client.post("/api/v1/auth/login", json={"email": user["email"], "password": "correct-horse-battery"})
    assert response.headers["cache-control"] == "no-store"


def test_duplicate_email_is_a_conflict(client: httpx.Client) -> None:
    email = new_email()
    register(client, email)
    again = client.post("/api/v1/auth/register", json={"email": email.upper(), "password": "another-password"})
    assert_problem(again, 409)


def test_wrong_password_and_unknown_email_look_the_same(client: httpx.Client) -> None:
    user = register(client)
    wrong = client.post("/api/v1/auth/login", json={"email": user["email"], "password": "not-the-password"})
    unknown = client.post("/api/v1/auth/login", json={"email": new_email(), "password": "not-the-password"})
    assert_problem(wrong, 401)
    assert_problem(unknown, 401)
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_me_needs_a_valid_token(client: httpx.Client) -> None:
    assert_problem(client.get("/api/v1/users/me"), 401)
    assert_problem(client.get("/api/v1/users/me", headers={"Authorization": "Basic abc"}), 401)
    assert_problem(client.get("/api/v1/users/me", headers=bearer("not.a.jwt")), 401)
    user = register(client)
    token = login(client, user["email"])["access_token"]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}AA"
    assert_problem(client.get("/api/v1/users/me", headers=bearer(tampered)), 401)
