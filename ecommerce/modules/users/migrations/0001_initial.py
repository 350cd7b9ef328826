"""users, auth_session, blocked_auth (a frozen copy of the models as they were at this step)."""

from peewee import CharField, Database, DateTimeField, ForeignKeyField, Model
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    class User(Model):
        """An account: ``email`` unique and normalised, the password only as a hash, ``status`` and
        ``role`` as words (active/suspended/deleted, customer/admin)."""

        email = CharField(max_length=254, unique=True)
        phone = CharField(max_length=16, null=True)
        hashed_password = CharField(max_length=255)
        status = CharField(max_length=16, default="active")
        role = CharField(max_length=16, default="customer")
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            table_name = "users"

    class AuthSession(Model):
        """One login: the first refresh token's hash, when it was issued and expires, and from where;
        ``revoked_at`` ends it for good."""

        id = CharField(max_length=32, primary_key=True)
        user = ForeignKeyField(User, on_delete="CASCADE", column_name="user_id")  # indexed: a user's sessions
        token_type = CharField(max_length=16, default="refresh")
        refresh_token_hash = CharField(max_length=64, unique=True)
        issued_time = DateTimeField()
        expiry_time = DateTimeField()
        ip = CharField(max_length=45, null=True)
        user_agent = CharField(max_length=255, null=True)
        revoked_at = DateTimeField(null=True)

        class Meta:
            table_name = "auth_session"

    class BlockedAuth(Model):
        """A revoked access token by ``jti``, kept until it would have expired anyway (the index on
        ``expires_at`` serves the purge)."""

        auth_session = ForeignKeyField(AuthSession, on_delete="CASCADE", column_name="auth_session_id")
        jti = CharField(max_length=64, unique=True)
        expires_at = DateTimeField(index=True)  # purge of expired entries
        created_at = DateTimeField()

        class Meta:
            table_name = "blocked_auth"

    create_tables(db, [User, AuthSession, BlockedAuth])


def down(migrator: SchemaMigrator, db: Database) -> None:
    for table in ("blocked_auth", "auth_session", "users"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
