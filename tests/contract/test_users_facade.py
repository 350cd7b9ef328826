"""The users facade's contract: the same assertions in-process and over HTTP (a live users service).

Other services call it for who a user is (notifications), an address snapshot (orders) and, on every
authenticated request, whether an access token and its session are still good (``authenticate``).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ecommerce.kernel.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from ecommerce.kernel.security.tokens import Principal
from ecommerce.modules.users import api as users
from tests.support.api import login, new_email, signed_in
from tests.support.live_server import LiveServer
from tests.support.remote import ADAPTERS, Facade, routed

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(params=ADAPTERS)
def call(request: pytest.FixtureRequest, live: LiveServer) -> Iterator[Facade]:
    with routed("users", request.param, live) as facade:
        yield facade


def test_register_then_get_and_find(call: Facade) -> None:
    email = new_email()
    made = call(users.register, email, "a long enough passphrase 1")
    assert isinstance(made, users.UserView) and made.email == email and made.role == "customer"
    assert call(users.get_user, made.id) == made
    assert call(users.find_user, made.id) == made
    assert call(users.is_active, made.id) is True
    assert call(users.find_user, 999_999) is None and call(users.is_active, 999_999) is False
    assert call(users.find_users, [made.id, 999_999, made.id]) == {made.id: made}


def test_the_same_errors_arrive(call: Facade) -> None:
    with pytest.raises(NotFound):
        call(users.get_user, 999_999)
    email = new_email()
    call(users.register, email, "a long enough passphrase 1")
    with pytest.raises(Conflict):
        call(users.register, email, "a long enough passphrase 1")
    with pytest.raises(ValidationFailed) as caught:
        call(users.register, "not-an-email", "short")
    assert caught.value.errors and all(error.field for error in caught.value.errors)


def test_address_snapshot_only_for_its_owner(call: Facade, client: httpx.Client) -> None:
    user, headers = signed_in(client)
    made = client.post("/api/v1/users/me/addresses", headers=headers,
                       json={"street": "1 Main St", "city": "Berlin", "country": "DE"})
    assert made.status_code == 201, made.text
    address = call(users.address_snapshot, user["id"], made.json()["id"])
    assert isinstance(address, users.AddressView) and (address.city, address.country) == ("Berlin", "DE")
    other, _ = signed_in(client)
    with pytest.raises(NotFound):
        call(users.address_snapshot, other["id"], made.json()["id"])


def test_authenticate_checks_the_token_and_its_session(call: Facade, client: httpx.Client) -> None:
    user, headers = signed_in(client)
    token = headers["Authorization"].removeprefix("Bearer ")
    principal = call(users.authenticate, token)
    assert isinstance(principal, Principal) and principal.user_id == user["id"] and principal.role == "customer"
    with pytest.raises(Unauthorized):
        call(users.authenticate, token[:-4] + "AAAA")
    assert client.post("/api/v1/auth/logout", headers=headers, json={}).status_code in (200, 204)
    with pytest.raises(Unauthorized):
        call(users.authenticate, token)
    fresh = login(client, user["email"])["access_token"]
    assert call(users.authenticate, fresh).user_id == user["id"]

