"""Login sessions and the token lifecycle.

- Login opens an ``auth_session`` (issued/expiry time, token type, client IP) and the first refresh token.
- Refresh spends the presented token with a conditional update (``... WHERE spent_at IS NULL``: two
  racing refreshes cannot both win) and issues the next one. Presenting an already spent token means
  it was stolen or replayed: the whole session is revoked, so every token of it stops working.
- Logout revokes the session and blocks the access token's ``jti`` until it expires.
- Every authenticated request checks the session is open, the ``jti`` not blocked and the user active.
- Suspending or deleting a user revokes all their sessions (``accounts.admin_update``); a revoked
  session is never reopened, so restoring the account revives no token issued before.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from peewee import fn

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.database import for_update
from ecommerce.kernel.errors import Unauthorized
from ecommerce.kernel.security.tokens import Principal
from ecommerce.modules.users.accounts import ACTIVE, config, forget_tokens, normalise_email
from ecommerce.modules.users.models import AuthSession, BlockedAuth, RefreshToken, User, database

BAD_LOGIN = "Incorrect email or password."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"
    #: Seconds the login session lives (the module's ``refresh_token_ttl``): a browser cookie's max-age.
    session_ttl: int = 0


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pair(user: User, session_id: str, refresh_token: str) -> TokenPair:
    tokens = config().tokens
    access = tokens.issue(user_id=user.id, role=user.role, session_id=session_id)
    return TokenPair(access_token=access, refresh_token=refresh_token, expires_in=tokens.ttl,
                     session_ttl=config().refresh_ttl)


def login(email: str, password: str, *, ip: str | None = None, user_agent: str | None = None) -> TokenPair:
    """Check the password and open a session. Every failure looks the same and costs the same."""
    cfg = config()
    user = User.get_or_none(User.email == normalise_email(email))
    password_ok = cfg.hasher.verify(user.hashed_password if user else None, password)
    if user is None or not password_ok or user.status != ACTIVE:
        raise Unauthorized(BAD_LOGIN)
    if cfg.hasher.needs_rehash(user.hashed_password):
        User.update(hashed_password=cfg.hasher.hash(password), updated_at=utcnow()).where(User.id == user.id).execute()
    refresh_token = secrets.token_urlsafe(32)
    now = utcnow()
    with database.atomic():
        # Re-read the user locked: a suspension committing between the password check and this insert
        # would otherwise miss the new session, and restoring the account later would bring it back.
        if for_update(User.select(User.id).where((User.id == user.id) & (User.status == ACTIVE))).first() is None:
            raise Unauthorized(BAD_LOGIN)
        session = AuthSession.create(
            id=secrets.token_hex(16),
            user=user.id,
            token_type="refresh",
            refresh_token_hash=hash_token(refresh_token),
            issued_time=now,
            expiry_time=now + datetime.timedelta(seconds=cfg.refresh_ttl),
            ip=ip,
            user_agent=(user_agent or "")[:255] or None,
        )
        RefreshToken.create(session=session.id, token_hash=hash_token(refresh_token), issued_at=now)
    return _pair(user, session.id, refresh_token)


def refresh(refresh_token: str) -> TokenPair:
    """Spend a refresh token for a new pair; a spent token revokes its whole session."""
    digest = hash_token(refresh_token)
    now = utcnow()
    new_token = secrets.token_urlsafe(32)
    with database.atomic():
        spent = (
            RefreshToken.update(spent_at=now)
            .where((RefreshToken.token_hash == digest) & RefreshToken.spent_at.is_null())
            .execute()
        )
        token = RefreshToken.get_or_none(RefreshToken.token_hash == digest)
        if token is None:
            raise Unauthorized("The refresh token is invalid.")
        session = AuthSession.get_by_id(token.session_id)
        reused = spent != 1
        if reused:
            # Committed on purpose (no raise inside the transaction): the thief and the victim both
            # lose the session, which is the point of reuse detection.
            AuthSession.update(revoked_at=now).where(
                (AuthSession.id == session.id) & AuthSession.revoked_at.is_null()
            ).execute()
        else:
            user = User.get_by_id(session.user_id)
            if session.revoked_at is not None or session.expiry_time <= now or user.status != ACTIVE:
                raise Unauthorized("The session has ended; log in again.")
            RefreshToken.create(session=session.id, token_hash=hash_token(new_token), issued_at=now)
    if reused:
        forget_tokens(session_id=session.id)
        raise Unauthorized("The refresh token was already used; the session has been revoked.")
    return _pair(user, session.id, new_token)


def logout(principal: Principal) -> None:
    """End the caller's session and block the presented access token until it would expire."""
    now = utcnow()
    with database.atomic():
        AuthSession.update(revoked_at=now).where(
            (AuthSession.id == principal.session_id) & AuthSession.revoked_at.is_null()
        ).execute()
        BlockedAuth.insert(
            auth_session=principal.session_id, jti=principal.token_id, expires_at=principal.expires_at, created_at=now
        ).on_conflict_ignore().execute()
    forget_tokens(session_id=principal.session_id)


def check_principal(principal: Principal) -> None:
    """Per-request check behind the stateless JWT: one indexed query."""
    blocked = BlockedAuth.select(BlockedAuth.id).where(BlockedAuth.jti == principal.token_id)
    row = (
        AuthSession.select(AuthSession.revoked_at, AuthSession.expiry_time, User.status, User.role, fn.EXISTS(blocked))
        .join(User)
        .where((AuthSession.id == principal.session_id) & (AuthSession.user == principal.user_id))
        .tuples()
        .first()
    )
    if row is None:
        raise Unauthorized("The session does not exist.")
    revoked_at, expiry_time, status, role, is_blocked = row
    # Status first: a suspension also revokes the sessions, and this says better why the token stopped.
    if status != ACTIVE:
        raise Unauthorized("The account is not active.")
    if role != principal.role:  # a demoted admin loses admin rights now, not when the token expires
        raise Unauthorized("Your role has changed; log in again.")
    if is_blocked or revoked_at is not None or expiry_time <= utcnow():
        raise Unauthorized("The session has ended; log in again.")


def purge_expired(now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete blocked tokens and sessions that can no longer matter (``ecommerce auth purge``)."""
    moment = now or utcnow()
    with database.atomic():
        blocked = BlockedAuth.delete().where(BlockedAuth.expires_at < moment).execute()
        sessions = AuthSession.delete().where(AuthSession.expiry_time < moment).execute()
    return {"blocked_tokens": blocked, "sessions": sessions}
