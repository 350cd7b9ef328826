"""Use cases of the users module: synchronous, transactional, no web framework.

Why no check-then-act on registration: two sign-ups with one email race; the unique index decides and
the loser gets a clean conflict, instead of a "does it exist?" query that both would pass.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from peewee import IntegrityError

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, NotFound, Unauthorized
from ecommerce.kernel.security.passwords import PasswordHasher
from ecommerce.kernel.security.tokens import Principal, TokenSigner
from ecommerce.modules.users.events import UserRegistered
from ecommerce.modules.users.models import AuthSession, User, database, events
from ecommerce.modules.users.rules import check_registration

ACTIVE = "active"


@dataclass
class Config:
    hasher: PasswordHasher
    tokens: TokenSigner
    refresh_ttl: int


_config: Config | None = None


def configure(config: Config) -> None:
    """Called by the module's ``setup`` once the kernel knows the settings and keys."""
    global _config
    _config = config


def config() -> Config:
    if _config is None:
        raise RuntimeError("users module is not set up: start the kernel with ecommerce.bootstrap()")
    return _config


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(email: str, password: str, phone: str | None = None, role: str = "customer") -> User:
    """Create an active account and announce it; 400 on bad input, 409 if the email is taken."""
    email = normalise_email(email)
    check_registration(email, password, phone)
    hashed = config().hasher.hash(password)  # slow on purpose: outside the transaction
    try:
        with database.atomic():
            user = User.create(email=email, phone=phone, hashed_password=hashed, role=role)
            events.publish(UserRegistered(user_id=user.id, email=user.email))
    except IntegrityError:
        raise Conflict("An account with this email already exists.") from None
    return user


def login(email: str, password: str, *, ip: str | None = None, user_agent: str | None = None) -> TokenPair:
    """Check the password and open a session; the error never tells whether the email exists."""
    cfg = config()
    user = User.get_or_none(User.email == normalise_email(email))
    if not cfg.hasher.verify(user.hashed_password if user else None, password) or user is None:
        raise Unauthorized("Incorrect email or password.")
    if user.status != ACTIVE:
        raise Unauthorized("Incorrect email or password.")
    if cfg.hasher.needs_rehash(user.hashed_password):
        User.update(hashed_password=cfg.hasher.hash(password), updated_at=utcnow()).where(User.id == user.id).execute()
    refresh_token = secrets.token_urlsafe(32)
    now = utcnow()
    with database.atomic():
        session = AuthSession.create(
            id=secrets.token_hex(16),
            user=user.id,
            refresh_token_hash=hash_refresh_token(refresh_token),
            issued_time=now,
            expiry_time=now + datetime.timedelta(seconds=cfg.refresh_ttl),
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
    access = cfg.tokens.issue(user_id=user.id, role=user.role, session_id=session.id)
    return TokenPair(access_token=access, refresh_token=refresh_token, expires_in=cfg.tokens.ttl)


def get_user(user_id: int) -> User:
    user = User.get_or_none((User.id == user_id) & (User.status != "deleted"))
    if user is None:
        raise NotFound("No such user.")
    return user


def check_principal(principal: Principal) -> None:
    """Per-request check behind the stateless JWT: the session is open and the user still active."""
    row = (
        AuthSession.select(AuthSession.revoked_at, AuthSession.expiry_time, User.status)
        .join(User)
        .where((AuthSession.id == principal.session_id) & (AuthSession.user == principal.user_id))
        .tuples()
        .first()
    )
    if row is None:
        raise Unauthorized("The session does not exist.")
    revoked_at, expiry_time, status = row
    if revoked_at is not None or expiry_time <= utcnow():
        raise Unauthorized("The session has ended; log in again.")
    if status != ACTIVE:
        raise Unauthorized("The account is not active.")
