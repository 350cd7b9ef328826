"""Logout, refresh rotation with reuse detection, password change, suspension and key rotation."""

from __future__ import annotations

import jwt

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.modules.users import accounts
from ecommerce.modules.users.keyring import KeyStore
from ecommerce.modules.users.models import AuthSession, RefreshToken, SigningKey
from ecommerce.modules.users.sessions import hash_token
from tests.support.api import PASSWORD, assert_problem, bearer, login
from tests.support.shop import Shop

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
    shop.kernel.runner.call(accounts.set_status, user["id"], "suspended")
    assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)
    assert_problem(shop.client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401)
    shop.kernel.runner.call(accounts.set_status, user["id"], "deleted")
    assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)


def test_key_rotation_logs_nobody_out(shop: Shop) -> None:
    _, before = shop.account()
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
    new_kid = shop.kernel.runner.call(accounts.config().keys.rotate)
    shop.kernel.runner.call(shop.kernel.tokens.reload)
    _, after = shop.account()
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid != old_kid
    assert shop.client.get(ME, headers=shop.headers(before)).status_code == 200
    assert shop.client.get(ME, headers=shop.headers(after)).status_code == 200


def test_a_worker_learns_a_key_rotated_elsewhere(shop: Shop) -> None:
    """Another instance rotates the key and signs with it. This server loaded its ring moments ago and
    has never seen that kid: it reloads the ring once and accepts the token."""
    _, old = shop.account()
    claims = jwt.decode(old["access_token"], options={"verify_signature": False})
    store = accounts.config().keys
    kid = shop.kernel.runner.call(store.rotate)  # written to the shared table, as another instance would
    new_key = shop.kernel.runner.call(store._readable)[kid]
    assert kid not in shop.kernel.tokens.ring().keys
    token = jwt.encode({**claims, "jti": "elsewhere"}, new_key, algorithm="HS256", headers={"kid": kid})
    assert shop.client.get(ME, headers=bearer(token)).status_code == 200
    assert shop.client.get(ME, headers=shop.headers(old)).status_code == 200


def test_keys_retire_after_the_grace_period(kernel: Kernel) -> None:
    store = KeyStore(kernel.secret, grace_seconds=0)
    first = kernel.runner.call(store.load).active_kid
    second = kernel.runner.call(store.rotate)
    ring = kernel.runner.call(store.load)
    assert list(ring.keys) == [second] and first != second


def test_a_new_secret_makes_old_tokens_401_not_500(shop_factory: object) -> None:
    first = shop_factory()  # type: ignore[operator]
    user, old = first.account()
    second = shop_factory(secret_key="a-completely-different-secret-" + "y" * 20)  # type: ignore[operator]
    assert_problem(second.client.get(ME, headers=second.headers(old)), 401)
    fresh = login(second.client, user["email"])  # a new key is made under the new secret
    assert second.client.get(ME, headers=second.headers(fresh)).status_code == 200


def test_a_demoted_admin_loses_admin_rights_at_once(shop: Shop) -> None:
    user, _ = shop.account()
    colleague, _ = shop.account()  # the last active admin cannot be demoted
    shop.kernel.runner.call(accounts.set_role, colleague["id"], "admin")
    shop.kernel.runner.call(accounts.set_role, user["id"], "admin")
    tokens = login(shop.client, user["email"])
    assert shop.client.get("/api/v1/admin/users", headers=shop.headers(tokens)).status_code == 200
    shop.kernel.runner.call(accounts.set_role, user["id"], "customer")
    assert_problem(shop.client.get("/api/v1/admin/users", headers=shop.headers(tokens)), 401)


def test_sessions_record_ip_and_type_and_secrets_are_stored_hashed(shop: Shop) -> None:
    _, tokens = shop.account()
    sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    session = shop.kernel.runner.call(AuthSession.get_by_id, sid)
    assert session.ip == "127.0.0.1" and session.token_type == "refresh"
    assert session.issued_time < session.expiry_time
    stored = shop.kernel.runner.call(lambda: [r.token_hash for r in RefreshToken.select()])
    assert tokens["refresh_token"] not in stored and hash_token(tokens["refresh_token"]) in stored
    ring = shop.kernel.tokens.ring()
    sealed = shop.kernel.runner.call(lambda: {k.kid: bytes(k.encrypted_key) for k in SigningKey.select()})
    for kid, key in ring.keys.items():
        assert key not in sealed[kid]


def test_tokens_trusted_from_memory_are_forgotten_on_every_revocation(shop: Shop) -> None:
    """A token used a moment ago is trusted from memory for a few seconds (ECOMMERCE_SESSION_CHECK_TTL);
    each way of revoking it is seen on the very next request of this process all the same."""
    def used(tokens: dict[str, object]) -> None:
        for _ in range(2):  # the second request is answered from memory
            assert shop.client.get(ME, headers=shop.headers(tokens)).status_code == 200
        assert shop.kernel.principals.get(str(tokens["access_token"])) is not None

    _, tokens = shop.account()
    used(tokens)
    assert shop.client.post("/api/v1/auth/logout", headers=shop.headers(tokens)).status_code == 204
    assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)

    user, tokens = shop.account()
    used(tokens)
    shop.kernel.runner.call(accounts.set_status, user["id"], "suspended")
    assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)

    user, tokens = shop.account()
    used(tokens)
    shop.kernel.runner.call(accounts.set_role, user["id"], "admin")
    assert_problem(shop.client.get(ME, headers=shop.headers(tokens)), 401)

    _, stolen = shop.account()
    legit = refresh(shop, str(stolen["refresh_token"]))
    used(legit)
    assert_problem(shop.client.post(REFRESH, json={"refresh_token": stolen["refresh_token"]}), 401)
    assert_problem(shop.client.get(ME, headers=bearer(str(legit["access_token"]))), 401)
