"""Through the live app: an admin cannot lock the shop out, and restoring an account revives no token.

The rules are proved race by race in tests/integration/test_admin_safety.py; here the route answers
409 problem details, two admins demoting each other over HTTP leave one, and a suspended (or deleted)
user that is restored finds every token of before refused, even one trusted from memory a moment ago.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from ecommerce.modules.users import accounts
from ecommerce.modules.users.models import User
from tests.support.api import assert_problem, login
from tests.support.shop import Shop

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"


def admin(shop: Shop) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new admin and its tokens."""
    user, _ = shop.account()
    shop.kernel.runner.call(accounts.set_role, user["id"], "admin")
    return user, login(shop.client, user["email"])


def active_admins(shop: Shop) -> list[int]:
    query = User.select(User.id).where((User.role == "admin") & (User.status == "active")).order_by(User.id)
    return shop.kernel.runner.call(lambda: [row.id for row in query])


@pytest.mark.parametrize("change", [{"status": "suspended"}, {"status": "deleted"}, {"role": "customer"}])
def test_an_admin_cannot_suspend_delete_or_demote_themselves(shop: Shop, change: dict[str, str]) -> None:
    me, tokens = admin(shop)
    admin(shop)  # not the last admin either: the self rule alone refuses it
    answer = shop.client.patch(f"/api/v1/admin/users/{me['id']}", json=change, headers=shop.headers(tokens))
    assert "their own account" in assert_problem(answer, 409)["detail"]
    assert me["id"] in active_admins(shop)
    assert shop.client.get("/api/v1/admin/users", headers=shop.headers(tokens)).status_code == 200


def test_two_admins_demoting_each_other_at_once_leave_one(shop: Shop) -> None:
    first, first_tokens = admin(shop)
    second, second_tokens = admin(shop)
    barrier = threading.Barrier(2)
    answers: dict[int, int] = {}

    def demote(target: dict[str, Any], tokens: dict[str, Any], actor: int) -> None:
        with httpx.Client(base_url=shop.server.url, timeout=30) as client:
            barrier.wait()
            response = client.patch(
                f"/api/v1/admin/users/{target['id']}", json={"role": "customer"}, headers=shop.headers(tokens)
            )
            answers[actor] = response.status_code

    threads = [
        threading.Thread(target=demote, args=(second, first_tokens, first["id"])),
        threading.Thread(target=demote, args=(first, second_tokens, second["id"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One wins; the other is refused: 409 (the last admin) or 401 (its own admin role went first).
    assert sorted(answers.values()) in ([200, 401], [200, 409]), answers
    [winner] = [actor for actor, status in answers.items() if status == 200]
    assert active_admins(shop) == [winner]


@pytest.mark.parametrize("status", ["suspended", "deleted"])
def test_a_restored_account_gets_none_of_its_old_tokens_back(shop: Shop, status: str) -> None:
    _, boss = admin(shop)
    user, laptop = shop.account()
    phone = login(shop.client, user["email"])
    for _ in range(2):  # the second request is answered from memory (ECOMMERCE_SESSION_CHECK_TTL)
        assert shop.client.get(ME, headers=shop.headers(laptop)).status_code == 200
    path = f"/api/v1/admin/users/{user['id']}"
    assert shop.client.patch(path, json={"status": status}, headers=shop.headers(boss)).status_code == 200
    assert shop.client.patch(path, json={"status": "active"}, headers=shop.headers(boss)).status_code == 200
    for tokens in (laptop, phone):
        assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)
        assert_problem(shop.client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401)
    fresh = login(shop.client, user["email"])  # the restored user simply logs in again
    assert shop.client.get(ME, headers=shop.headers(fresh)).status_code == 200
