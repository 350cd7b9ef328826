"""The users use cases against real databases, including the registration race."""

from __future__ import annotations

import threading

import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.errors import Conflict, Unauthorized, ValidationFailed
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.modules.users import accounts, api, sessions
from ecommerce.modules.users import settings as users_settings
from ecommerce.modules.users.models import User, events


def test_register_publishes_user_registered(kernel: Kernel) -> None:
    user = kernel.runner.call(api.register, " Ada@Example.COM ", "long-enough-password")
    assert user.email == "ada@example.com"
    Outbox = events.Outbox
    [row] = kernel.runner.call(lambda: list(Outbox.select().dicts()))
    assert row["name"] == "users.UserRegistered.v1"
    assert f'"user_id":{user.id}' in str(row["payload"])


def test_concurrent_registrations_with_one_email_create_one_user(kernel: Kernel) -> None:
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            kernel.runner.call(api.register, "race@example.com", "long-enough-password")
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["created"]
    assert kernel.runner.call(lambda: User.select().where(User.email == "race@example.com").count()) == 1
    assert kernel.runner.call(lambda: events.Outbox.select().count()) == 1  # one event, not six


def test_invalid_details_are_reported_field_by_field(kernel: Kernel) -> None:
    with pytest.raises(ValidationFailed) as caught:
        kernel.runner.call(api.register, "not-an-email", "short", "12345")
    assert {e.field for e in caught.value.errors} == {"email", "password", "phone"}
    assert kernel.runner.call(lambda: User.select().count()) == 0


def test_suspended_users_tokens_stop_working(kernel: Kernel) -> None:
    user = kernel.runner.call(api.register, "sus@example.com", "long-enough-password")
    pair = kernel.runner.call(sessions.login, "sus@example.com", "long-enough-password")
    assert kernel.runner.call(kernel.authenticate, pair.access_token).user_id == user.id
    kernel.runner.call(lambda: User.update(status="suspended").where(User.id == user.id).execute())
    with pytest.raises(Unauthorized):
        kernel.runner.call(kernel.authenticate, pair.access_token)
    with pytest.raises(Unauthorized):
        kernel.runner.call(sessions.login, "sus@example.com", "long-enough-password")


def test_login_rehashes_when_parameters_change(kernel: Kernel) -> None:
    kernel.runner.call(api.register, "re@example.com", "long-enough-password")
    old = kernel.runner.call(lambda: User.get(User.email == "re@example.com").hashed_password)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    previous = accounts.config()
    with users_settings.runtime.replaced(users_settings.Config(
            hasher=stronger, tokens=previous.tokens, keys=previous.keys, refresh_ttl=previous.refresh_ttl)):
        kernel.runner.call(sessions.login, "re@example.com", "long-enough-password")
    new = kernel.runner.call(lambda: User.get(User.email == "re@example.com").hashed_password)
    assert new != old and "t=2" in new
