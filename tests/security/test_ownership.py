"""Broken object-level authorisation: user A must never see or touch user B's data."""

from __future__ import annotations

from tests.support.api import assert_problem
from tests.support.shop import Shop

ADDRESS = {"street": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701", "country": "us"}


def test_another_users_address_is_a_404_and_stays_unchanged(shop: Shop) -> None:
    _, a = shop.account()
    _, b = shop.account()
    created = shop.client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=shop.headers(b))
    assert created.status_code == 201, created.text
    address = created.json()
    assert address["country"] == "US"
    path = f"/api/v1/users/me/addresses/{address['id']}"

    assert_problem(shop.client.get(path, headers=shop.headers(a)), 404)
    assert_problem(shop.client.patch(path, json={"city": "Shelbyville"}, headers=shop.headers(a)), 404)
    assert_problem(shop.client.delete(path, headers=shop.headers(a)), 404)
    assert shop.client.get("/api/v1/users/me/addresses", headers=shop.headers(a)).json() == {
        "items": [], "next_cursor": None,
    }
    assert shop.client.get(path, headers=shop.headers(b)).json() == address  # untouched


def test_a_missing_address_and_a_foreign_one_look_the_same(shop: Shop) -> None:
    _, a = shop.account()
    _, b = shop.account()
    foreign = shop.client.post("/api/v1/users/me/addresses", json=ADDRESS, headers=shop.headers(b)).json()
    theirs = shop.client.get(f"/api/v1/users/me/addresses/{foreign['id']}", headers=shop.headers(a))
    missing = shop.client.get("/api/v1/users/me/addresses/999999", headers=shop.headers(a))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]


def test_client_sent_role_status_and_id_are_ignored(shop: Shop) -> None:
    victim, _ = shop.account()
    sneaky = shop.client.post(
        "/api/v1/auth/register",
        json={"email": "sneaky@example.com", "password": "plausible-pass-91", "role": "admin", "status": "active",
              "id": victim["id"]},
    )
    assert sneaky.status_code == 201
    assert sneaky.json()["role"] == "customer" and sneaky.json()["id"] != victim["id"]
    _, tokens = shop.account()
    patched = shop.client.patch(
        "/api/v1/users/me",
        json={
            "role": "admin", "status": "active", "id": victim["id"], "email": victim["email"], "phone": "+15555550100",
        },
        headers=shop.headers(tokens),
    )
    assert patched.status_code == 200
    me = patched.json()
    assert me["role"] == "customer" and me["id"] != victim["id"] and me["email"] != victim["email"]
    assert me["phone"] == "+15555550100"


def test_a_customer_on_admin_routes_gets_403_and_changes_nothing(shop: Shop) -> None:
    victim, _ = shop.account()
    _, customer = shop.account()
    assert_problem(shop.client.get("/api/v1/admin/users", headers=shop.headers(customer)), 403)
    attempt = shop.client.patch(
        f"/api/v1/admin/users/{victim['id']}", json={"status": "suspended"}, headers=shop.headers(customer)
    )
    assert_problem(attempt, 403)
    admin_user, _ = shop.account()
    from ecommerce.modules.users.accounts import set_role

    shop.kernel.runner.call(set_role, admin_user["id"], "admin")
    from tests.support.api import login

    admin = login(shop.client, admin_user["email"])
    listed = shop.client.get("/api/v1/admin/users", headers=shop.headers(admin)).json()["items"]
    assert {u["id"]: u["status"] for u in listed}[victim["id"]] == "active"

    victim_path = f"/api/v1/admin/users/{victim['id']}"
    half_bad = shop.client.patch(victim_path, json={"status": "suspended", "role": "emperor"},
                                 headers=shop.headers(admin))
    assert_problem(half_bad, 400, "role")
    assert shop.client.patch(victim_path, json={"status": "deleted"}, headers=shop.headers(admin)).json()["status"] == (
        "deleted"
    )
    back = shop.client.patch(victim_path, json={"status": "active"}, headers=shop.headers(admin))
    assert back.status_code == 200 and back.json()["status"] == "active"  # a deleted account can be restored
