"""The users module's tables (private: other modules use ``users.api``)."""

from __future__ import annotations

from peewee import AutoField, BlobField, CharField, DateTimeField, ForeignKeyField, Model

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.module import module_storage
from ecommerce.modules.users.rules import ADDRESS_LIMITS

MODULE = "users"
database, events = module_storage(MODULE)


class User(Model):
    """An account: ``email`` is unique and stored normalised (trimmed, lower case), the password only as a
    hash. Suspending or deleting a user (``status``) revokes every session; ``role`` admin opens the admin routes."""

    id = AutoField()
    email = CharField(max_length=254, unique=True)  # stored normalised (trimmed, lower-case)
    phone = CharField(max_length=16, null=True)  # E.164
    hashed_password = CharField(max_length=255)
    status = CharField(max_length=16, default="active")  # active | suspended | deleted
    role = CharField(max_length=16, default="customer")  # customer | admin
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "users"


class AuthSession(Model):
    """One login: the refresh token's hash, when it was issued and expires, and from where. Once
    ``revoked_at`` is set (logout, a reused refresh token, a suspended user) it is never reopened."""

    id = CharField(max_length=32, primary_key=True)  # random; the JWT's ``sid``
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE", column_name="user_id")
    token_type = CharField(max_length=16, default="refresh")
    refresh_token_hash = CharField(max_length=64, unique=True)  # the login's first token (chain: RefreshToken)
    issued_time = DateTimeField(default=utcnow)
    expiry_time = DateTimeField()
    ip = CharField(max_length=45, null=True)
    user_agent = CharField(max_length=255, null=True)
    revoked_at = DateTimeField(null=True)
    user_id: int

    class Meta:
        table_name = "auth_session"


class BlockedAuth(Model):
    """A revoked access token (by ``jti``, unique), kept until the token would have expired anyway: every
    authenticated request checks it, and ``ecommerce auth purge`` deletes rows past ``expires_at``."""

    id = AutoField()
    auth_session = ForeignKeyField(AuthSession, on_delete="CASCADE", column_name="auth_session_id")
    jti = CharField(max_length=64, unique=True)
    expires_at = DateTimeField(index=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "blocked_auth"


class RefreshToken(Model):
    """One link of a session's refresh-token chain (only the hash of the token is stored). Spent tokens are
    kept to detect reuse: presenting one again revokes the whole session."""

    id = AutoField()
    session = ForeignKeyField(
        AuthSession, on_delete="CASCADE", column_name="auth_session_id", object_id_name="session_id"
    )
    token_hash = CharField(max_length=64, unique=True)  # sha256 hex of the opaque token
    session_id: str  # the foreign key's raw value (declared for type checkers)
    issued_at = DateTimeField(default=utcnow)
    spent_at = DateTimeField(null=True)

    class Meta:
        table_name = "refresh_tokens"


class SigningKey(Model):
    """One key of the access-token key ring. Key material is encrypted with a key derived from the app secret;
    the newest live key signs, and ``retired_at`` is set once a newer key has outlived the grace period."""

    kid = CharField(max_length=32, primary_key=True)
    encrypted_key = BlobField()
    created_at = DateTimeField(default=utcnow)
    retired_at = DateTimeField(null=True)

    class Meta:
        table_name = "signing_keys"


class Address(Model):
    """An address in a user's address book (at most 50 each). Every query is scoped by ``user_id``, so another
    user's address is not found; an order copies the address at checkout, so edits never rewrite an order."""

    id = AutoField()
    user = ForeignKeyField(User, backref="addresses", on_delete="CASCADE", column_name="user_id")
    street = CharField(max_length=ADDRESS_LIMITS["street"])
    city = CharField(max_length=ADDRESS_LIMITS["city"])
    state = CharField(max_length=ADDRESS_LIMITS["state"], null=True)
    postal_code = CharField(max_length=ADDRESS_LIMITS["postal_code"], null=True)
    country = CharField(max_length=2)  # ISO 3166-1 alpha-2, upper case
    user_id: int
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "addresses"


MODELS = [User, AuthSession, BlockedAuth, RefreshToken, SigningKey, Address]
