"""Account use cases of the users module (register, change password, status and role, admins): synchronous,
transactional, no web framework.

Why no check-then-act on registration: two sign-ups with one email race; the unique index decides and
the loser gets a clean conflict, instead of a "does it exist?" query that both would pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peewee import IntegrityError

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.database import for_update
from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.kernel.statements import Statement
from ecommerce.modules.users import rules, settings
from ecommerce.modules.users.events import UserRegistered
from ecommerce.modules.users.models import AuthSession, User, database, events

ACTIVE, SUSPENDED, DELETED = "active", "suspended", "deleted"
STATUSES = (ACTIVE, SUSPENDED, DELETED)
ROLES = ("customer", "admin")


#: What the module's setup built (hasher, tokens, key ring...): ``ecommerce.modules.users.settings``.
config = settings.get


def forget_tokens(*, user_id: int | None = None, session_id: str | None = None) -> None:
    """After a revocation commits: this process stops trusting the tokens from memory at once."""
    config().principals.forget(user_id=user_id, session_id=session_id)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def register(email: str, password: str, phone: str | None = None, role: str = "customer") -> User:
    """Create an active account and announce it; 400 on bad input, 409 if the email is taken."""
    email = normalise_email(email)
    rules.check_registration(email, password, phone)
    hashed = config().hasher.hash(password)  # slow on purpose: outside the transaction
    try:
        with database.atomic():
            user = User.create(email=email, phone=phone, hashed_password=hashed, role=role)
            events.publish(UserRegistered(user_id=user.id, email=user.email))
    except IntegrityError:
        raise Conflict("An account with this email already exists.") from None
    return user


#: The facade's user read, compiled once: the relay's notification handlers read the user of every event
#: they turn into a message (issue 15: peewee building SQL was the relay's largest share of CPU).
_VIEW_COLUMNS: tuple[Any, ...] = (User.id, User.email, User.phone, User.role, User.status, User.created_at)
_VIEW = Statement(database, lambda user_id: User.select(*_VIEW_COLUMNS).where(
    (User.id == user_id) & (User.status != DELETED)))


def view_row(user_id: int) -> tuple[Any, ...]:
    """(id, email, phone, role, status, created at) of a user not deleted; :class:`NotFound` otherwise."""
    found = _VIEW.rows(user_id)
    if not found:
        raise NotFound("No such user.")
    return tuple(column.python_value(value) for column, value in zip(_VIEW_COLUMNS, found[0], strict=True))


#: Up to this many ids, the batch read is compiled once per count; more are built each time.
_VIEWS_COMPILED_UP_TO = 50
_VIEWS: dict[int, Statement] = {}


def view_rows(user_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """``view_row`` for several users in one query (the relay's notifications for a batch of events); deleted
    and unknown ids are absent."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    if len(ids) > _VIEWS_COMPILED_UP_TO:
        query: Any = User.select(*_VIEW_COLUMNS).where(User.id.in_(ids) & (User.status != DELETED)).tuples()
        found = list(query)
    else:
        statement = _VIEWS.get(len(ids))
        if statement is None:
            statement = _VIEWS[len(ids)] = Statement(database, lambda *wanted: User.select(*_VIEW_COLUMNS).where(
                User.id.in_(list(wanted)) & (User.status != DELETED)), *([int] * len(ids)))
        found = statement.rows(*ids)
    return [tuple(column.python_value(value) for column, value in zip(_VIEW_COLUMNS, row, strict=True))
            for row in found]


def get_user(user_id: int) -> User:
    user = User.get_or_none((User.id == user_id) & (User.status != DELETED))
    if user is None:
        raise NotFound("No such user.")
    return user


def update_phone(user_id: int, phone: str | None) -> User:
    rules.check_phone(phone)
    User.update(phone=phone, updated_at=utcnow()).where(User.id == user_id).execute()
    return get_user(user_id)


def change_password(user_id: int, current: str, new: str, *, keep_session: str | None) -> User:
    """Verify the current password, store the new hash and end every other session of the user."""
    rules.check_password(new)
    cfg = config()
    user = get_user(user_id)
    if not cfg.hasher.verify(user.hashed_password, current):
        raise ValidationFailed(
            "The current password is incorrect.", errors=[FieldError("current_password", "Incorrect password.")]
        )
    hashed = cfg.hasher.hash(new)
    now = utcnow()
    with database.atomic():
        User.update(hashed_password=hashed, updated_at=now).where(User.id == user_id).execute()
        others = (AuthSession.user == user_id) & AuthSession.revoked_at.is_null()
        if keep_session is not None:
            others &= AuthSession.id != keep_session
        AuthSession.update(revoked_at=now).where(others).execute()
    forget_tokens(user_id=user_id)
    return get_user(user_id)


def set_status(user_id: int, status: str) -> User:
    """Suspend, delete or reactivate (scripts and tests; the same rules as the admin route)."""
    return admin_update(user_id, status=status)


def set_role(user_id: int, role: str) -> User:
    return admin_update(user_id, role=role)


SELF_CHANGE = "An admin cannot suspend, delete or demote their own account; another admin must do it."
LAST_ADMIN = "This is the last active admin: make another account an admin before suspending, deleting or demoting it."


def admin_update(
    user_id: int, *, status: str | None = None, role: str | None = None, actor_id: int | None = None
) -> User:
    """Status and role together, validated before anything changes (deleted users can be reactivated).

    Two rules keep the shop administrable: ``actor_id`` (the admin making the change) cannot take away
    their own admin rights, and no change may leave zero active admins. The second is checked with the
    active admins' rows locked (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two admins
    demoting each other at once cannot both see "another admin remains": the second waits and sees one.

    Suspending or deleting ends every session of the user for good: restoring the account later revives
    none of the tokens issued before (each names its session, and a revoked session is never reopened),
    so the user logs in again. A role change ends no session: the principal check refuses tokens that
    carry the old role, and a refresh yields one with the new role.
    """
    errors = []
    if status is not None and status not in STATUSES:
        errors.append(FieldError("status", f"One of {', '.join(STATUSES)}"))
    if role is not None and role not in ROLES:
        errors.append(FieldError("role", f"One of {', '.join(ROLES)}"))
    if errors:
        raise ValidationFailed("Invalid change.", errors=errors)
    if user_id == actor_id and (status not in (None, ACTIVE) or role not in (None, "admin")):
        raise Conflict(SELF_CHANGE)
    now = utcnow()
    with database.atomic():
        active_admins = (User.role == "admin") & (User.status == ACTIVE)
        admins = [row.id for row in for_update(User.select(User.id).where(active_admins).order_by(User.id))]
        user = for_update(User.select().where(User.id == user_id)).first()
        if user is None:
            raise NotFound("No such user.")
        new_status, new_role = status or user.status, role or user.role
        stays_admin = new_status == ACTIVE and new_role == "admin"
        if user.id in admins and not stays_admin and len(admins) <= 1:
            raise Conflict(LAST_ADMIN)
        User.update(status=new_status, role=new_role, updated_at=now).where(User.id == user_id).execute()
        if new_status != ACTIVE:
            AuthSession.update(revoked_at=now).where(
                (AuthSession.user == user_id) & AuthSession.revoked_at.is_null()
            ).execute()
    forget_tokens(user_id=user_id)
    return User.get_by_id(user_id)


def create_admin(email: str, password: str) -> User:
    return register(email, password, role="admin")


def promote(email: str) -> User:
    """Make an existing account an admin (the CLI's ``--promote``)."""
    found = User.get_or_none(User.email == normalise_email(email))
    if found is None:
        raise NotFound("No account with this email.")
    return admin_update(found.id, role="admin")
