"""The shop always keeps an active admin, and a restored account gets none of its old tokens back.

Races run on real threads against the real database (each layout): a check-then-act version of the
last-admin rule lets two admins demoting each other at once both succeed and leave nobody in charge.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable

import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.errors import Conflict, Unauthorized
from ecommerce.modules.users import accounts, api, sessions
from ecommerce.modules.users.models import AuthSession, User

PASSWORD = "long-enough-password"
_emails = itertools.count(1)


def new_user(kernel: Kernel, role: str = "customer") -> int:
    user = kernel.runner.call(api.register, f"admin-safety-{next(_emails)}@example.com", PASSWORD)
    if role != "customer":
        kernel.runner.call(accounts.set_role, user.id, role)
    return user.id


def active_admins(kernel: Kernel) -> list[int]:
    query = User.select(User.id).where((User.role == "admin") & (User.status == "active")).order_by(User.id)
    return kernel.runner.call(lambda: [row.id for row in query])


def at_once(kernel: Kernel, *jobs: Callable[[], object]) -> list[str]:
    """Run each job on its own thread, released together; 'ok' or the error class, in job order."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [""] * len(jobs)

    def run(index: int, job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            kernel.runner.call(job)
            outcomes[index] = "ok"
        except Exception as exc:  # the outcome is what the test looks at
            outcomes[index] = type(exc).__name__

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("change", [{"role": "customer"}, {"status": "suspended"}, {"status": "deleted"}])
def test_the_last_active_admin_cannot_be_removed(kernel: Kernel, change: dict[str, str]) -> None:
    only = new_user(kernel, "admin")
    with pytest.raises(Conflict, match="last active admin"):
        kernel.runner.call(lambda: accounts.admin_update(only, **change))
    assert active_admins(kernel) == [only]
    other = new_user(kernel, "admin")
    kernel.runner.call(lambda: accounts.admin_update(only, **change))  # with another admin it is allowed
    assert active_admins(kernel) == [other]


def test_an_admin_cannot_remove_themselves(kernel: Kernel) -> None:
    me, _ = new_user(kernel, "admin"), new_user(kernel, "admin")
    for change in ({"role": "customer"}, {"status": "suspended"}, {"status": "deleted"}):
        with pytest.raises(Conflict, match="their own account"):
            kernel.runner.call(lambda change=change: accounts.admin_update(me, actor_id=me, **change))
    assert me in active_admins(kernel)
    kernel.runner.call(lambda: accounts.admin_update(me, status="active", role="admin", actor_id=me))  # a no-op is fine


@pytest.mark.parametrize(
    "changes",
    [
        ({"role": "customer"}, {"role": "customer"}),
        ({"status": "suspended"}, {"status": "deleted"}),
        ({"role": "customer"}, {"status": "suspended"}),
    ],
    ids=["demote-demote", "suspend-delete", "demote-suspend"],
)
def test_two_admins_removing_each_other_at_once_leave_one(kernel: Kernel, changes: tuple[dict[str, str], ...]) -> None:
    left_over: int | None = None
    for _ in range(6):
        first, second = new_user(kernel, "admin"), new_user(kernel, "admin")
        if left_over is not None:  # only the pair is in charge when the race starts
            kernel.runner.call(accounts.set_status, left_over, "suspended")
        assert active_admins(kernel) == [first, second]
        outcomes = at_once(
            kernel,
            functools.partial(accounts.admin_update, second, actor_id=first, **changes[0]),
            functools.partial(accounts.admin_update, first, actor_id=second, **changes[1]),
        )
        assert sorted(outcomes) == ["Conflict", "ok"], outcomes
        [left_over] = active_admins(kernel)
        assert left_over == (first if outcomes[0] == "ok" else second)


def _tokens(kernel: Kernel, email: str) -> sessions.TokenPair:
    return kernel.runner.call(sessions.login, email, PASSWORD)


@pytest.mark.parametrize("status", ["suspended", "deleted"])
def test_restoring_an_account_revives_no_old_token(kernel: Kernel, status: str) -> None:
    user = kernel.runner.call(api.register, f"restored-{status}@example.com", PASSWORD)
    old = [_tokens(kernel, user.email) for _ in range(2)]
    renewed = kernel.runner.call(sessions.refresh, old[1].refresh_token)  # a rotated pair is old too
    kernel.runner.call(accounts.set_status, user.id, status)
    kernel.runner.call(accounts.set_status, user.id, "active")  # in the same second as the suspension
    for pair in [*old, renewed]:
        with pytest.raises(Unauthorized):
            kernel.runner.call(kernel.authenticate, pair.access_token)
        with pytest.raises(Unauthorized):
            kernel.runner.call(sessions.refresh, pair.refresh_token)
    fresh = _tokens(kernel, user.email)  # the restored user logs in again
    assert kernel.runner.call(kernel.authenticate, fresh.access_token).user_id == user.id


def test_a_login_racing_a_suspension_gets_no_session_that_outlives_it(kernel: Kernel) -> None:
    """Logins that checked the password just before the suspension committed must not slip a session in
    after it: when the account is restored, no token from before the restore may work."""
    user = kernel.runner.call(api.register, "racing@example.com", PASSWORD)
    issued: list[sessions.TokenPair] = []

    def log_in() -> None:
        for _ in range(200):
            try:
                issued.append(sessions.login(user.email, PASSWORD))
            except Unauthorized:
                return

    def suspend_while_logging_in() -> None:
        while len(issued) < 6:  # some sessions exist, and more logins are on their way
            time.sleep(0.001)
        accounts.set_status(user.id, "suspended")

    at_once(kernel, log_in, log_in, log_in, suspend_while_logging_in)
    kernel.runner.call(accounts.set_status, user.id, "active")
    assert len(issued) >= 6
    open_sessions = AuthSession.select().where((AuthSession.user == user.id) & AuthSession.revoked_at.is_null())
    assert kernel.runner.call(open_sessions.count) == 0
    for pair in issued:
        with pytest.raises(Unauthorized):
            kernel.runner.call(kernel.authenticate, pair.access_token)
