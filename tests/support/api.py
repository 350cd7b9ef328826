"""Small helpers for HTTP tests: register, log in, assert problem details."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx

_emails = itertools.count(1)
PASSWORD = "correct-horse-battery"
#: The test gateway's card that always succeeds.
CARD = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}


def new_email() -> str:
    return f"user{next(_emails)}@example.com"


def register(client: httpx.Client, email: str | None = None, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/auth/register", json={"email": email or new_email(), "password": password, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(client: httpx.Client) -> tuple[dict[str, Any], dict[str, str]]:
    """A new user and the headers that authenticate as them."""
    user = register(client)
    tokens = login(client, user["email"])
    return user, bearer(tokens["access_token"])


def assert_problem(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    """The response is RFC 9457 problem details with ``status``; ``fields`` have field errors."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    named = {error["field"] for error in body.get("errors", [])}
    for field in fields:
        assert field in named, f"no error for {field!r} in {body}"
    return body


def post(client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """A POST that must succeed (200 or 201), with a fresh Idempotency-Key (routes that need one get it)."""
    response = client.post(path, json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result
