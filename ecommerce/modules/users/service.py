"""Account use cases of the users module: synchronous, transactional, no web framework.

Why no check-then-act on registration: two sign-ups with one email race; the unique index decides and
the loser gets a clean conflict, instead of a "does it exist?" query that both would pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peewee import IntegrityError

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.kernel.security.principal_cache import PrincipalCache
from ecommerce.kernel.security.tokens import TokenSigner
from ecommerce.modules.users import rules
from ecommerce.modules.users.events import UserRegistered
from ecommerce.modules.users.keyring import KeyStore
from ecommerce.modules.users.models import AuthSession, User, database, events

ACTIVE, SUSPENDED, DELETED = "active", "suspended", "deleted"
STATUSES = (ACTIVE, SUSPENDED, DELETED)
ROLES = ("customer", "admin")


@dataclass
class Config:
    hasher: PasswordHasher
    tokens: TokenSigner
    keys: KeyStore
    refresh_ttl: int
    #: The kernel's memory of recently checked tokens: forgotten after every revocation commits.
    principals: PrincipalCache = field(default_factory=lambda: PrincipalCache(0))


_config: Config | None = None


def configure(config: Config) -> None:
    """Called by the module's ``setup`` once the kernel knows the settings and secrets."""
    global _config
    _config = config


def config() -> Config:
    if _config is None:
        raise RuntimeError("users module is not set up: start the kernel with ecommerce.bootstrap()")
    return _config


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
    """Suspend, delete or reactivate; tokens of a non-active user stop working on their next request."""
    if status not in STATUSES:
        raise ValidationFailed("Unknown status.", errors=[FieldError("status", f"One of {', '.join(STATUSES)}")])
    User.update(status=status, updated_at=utcnow()).where(User.id == user_id).execute()
    forget_tokens(user_id=user_id)
    return User.get_by_id(user_id)


def set_role(user_id: int, role: str) -> User:
    if role not in ROLES:
        raise ValidationFailed("Unknown role.", errors=[FieldError("role", f"One of {', '.join(ROLES)}")])
    User.update(role=role, updated_at=utcnow()).where(User.id == user_id).execute()
    forget_tokens(user_id=user_id)
    return User.get_by_id(user_id)


def admin_update(user_id: int, *, status: str | None = None, role: str | None = None) -> User:
    """Status and role together, validated before anything changes (deleted users can be reactivated)."""
    errors = []
    if status is not None and status not in STATUSES:
        errors.append(FieldError("status", f"One of {', '.join(STATUSES)}"))
    if role is not None and role not in ROLES:
        errors.append(FieldError("role", f"One of {', '.join(ROLES)}"))
    if errors:
        raise ValidationFailed("Invalid change.", errors=errors)
    changes: dict[str, object] = {"updated_at": utcnow()}
    if status is not None:
        changes["status"] = status
    if role is not None:
        changes["role"] = role
    if User.update(**changes).where(User.id == user_id).execute() != 1:
        raise NotFound("No such user.")
    forget_tokens(user_id=user_id)
    return User.get_by_id(user_id)


def create_admin(email: str, password: str) -> User:
    return register(email, password, role="admin")


def promote(email: str) -> User:
    """Make an existing account an admin (the CLI's ``--promote``)."""
    updated = User.update(role="admin", updated_at=utcnow()).where(User.email == normalise_email(email)).execute()
    if updated != 1:
        raise NotFound("No account with this email.")
    promoted = User.get(User.email == normalise_email(email))
    forget_tokens(user_id=promoted.id)
    return promoted
