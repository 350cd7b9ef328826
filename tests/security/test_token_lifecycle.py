"""Logout, refresh rotation with reuse detection, password change, suspension and key rotation."""

from __future__ import annotations

import jwt

from ecommerce.modules.users import service
from tests.support.shop import Shop
from tests.support.api import PASSWORD, assert_problem, bearer, login

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"


def refresh(shop: Shop, token: str) -> dict[str, object]:
    response = shop.client.post(REFRESH, json={"refresh_token": token})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, object] = response.json()
    return body


def test_after_logout_neither_token_works(shop: Shop) -> None:
    _, tokens = shop.account()
    assert shop.client.post("/api/v1/auth/logout", headers=shop.headers(tokens)).status_code == 204
    assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)
    assert_problem(shop.client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401)
    jti = jwt.decode(tokens["access_token"], options={"verify_signature": False})["jti"]
    from ecommerce.modules.users.models import BlockedAuth

    assert shop.kernel.runner.call(lambda: BlockedAuth.select().where(BlockedAuth.jti == jti).count()) == 1


def test_refresh_rotates_and_the_old_token_is_spent(shop: Shop) -> None:
    _, first = shop.account()
    second = refresh(shop, str(first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert shop.client.get(ME, headers=bearer(str(second["access_token"]))).status_code == 200
    third = refresh(shop, str(second["refresh_token"]))
    assert shop.client.get(ME, headers=bearer(str(third["access_token"]))).status_code == 200


def test_a_reused_refresh_token_kills_the_whole_session(shop: Shop) -> None:
    _, stolen = shop.account()
    legit = refresh(shop, str(stolen["refresh_token"]))  # the victim refreshes first
    replay = shop.client.post(REFRESH, json={"refresh_token": stolen["refresh_token"]})  # the thief replays
    assert_problem(replay, 401)
    assert_problem(shop.client.get(ME, headers=bearer(str(legit["access_token"]))), 401)
    assert_problem(shop.client.post(REFRESH, json={"refresh_token": legit["refresh_token"]}), 401)


def test_unknown_refresh_token_is_401(shop: Shop) -> None:
    assert_problem(shop.client.post(REFRESH, json={"refresh_token": "made-up"}), 401)


def test_password_change_ends_the_other_sessions(shop: Shop) -> None:
    user, laptop = shop.account()
    phone = login(shop.client, user["email"])
    attempt = {"current_password": "not-my-password", "password": "brand-new-secret-77"}
    wrong = shop.client.patch(ME, json=attempt, headers=shop.headers(laptop))
    assert_problem(wrong, 400, "current_password")
    changed = shop.client.patch(
        ME, json={"current_password": PASSWORD, "password": "brand-new-secret-77"}, headers=shop.headers(laptop)
    )
    assert changed.status_code == 200, changed.text
    assert shop.client.get(ME, headers=shop.headers(laptop)).status_code == 200  # the session that changed it
    assert_problem(shop.client.get(ME, headers=shop.headers(phone)), 401)
    assert_problem(shop.client.post(REFRESH, json={"refresh_token": phone["refresh_token"]}), 401)
    assert_problem(shop.client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD}), 401)
    assert login(shop.client, user["email"], "brand-new-secret-77")["access_token"]


def test_suspension_stops_every_token_at_once(shop: Shop) -> None:
    user, tokens = shop.account()
    shop.kernel.runner.call(service.set_status, user["id"], "suspended")
    assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)
    assert_problem(shop.client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401)
    shop.kernel.runner.call(service.set_status, user["id"], "deleted")
    assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)


def test_key_rotation_logs_nobody_out(shop: Shop) -> None:
    _, before = shop.account()
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
    new_kid = shop.kernel.runner.call(service.config().keys.rotate)
    shop.kernel.runner.call(shop.kernel.tokens.reload)
    _, after = shop.account()
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid != old_kid
    assert shop.client.get(ME, headers=shop.headers(before)).status_code == 200
    assert shop.client.get(ME, headers=shop.headers(after)).status_code == 200


def test_a_worker_learns_a_key_rotated_elsewhere(shop_factory: object) -> None:
    first = shop_factory()  # type: ignore[operator]
    _, old = first.account()
    kid = first.kernel.runner.call(service.config().keys.rotate)  # "another instance" rotates
    fresh = first.kernel.tokens
    fresh._loaded_at = float("-inf")  # that instance's own ring is now up to date
    _, new = first.account()
    assert jwt.get_unverified_header(new["access_token"])["kid"] == kid
    assert first.client.get(ME, headers=first.headers(old)).status_code == 200
