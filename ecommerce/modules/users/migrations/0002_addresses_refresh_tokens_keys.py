"""addresses, refresh_tokens (rotation chain with reuse detection), signing_keys (the JWT key ring)."""

from peewee import BlobField, CharField, Database, DateTimeField, ForeignKeyField, Model
from playhouse.migrate import SchemaMigrator

from ecommerce.kernel.database import create_tables


def up(migrator: SchemaMigrator, db: Database) -> None:
    # The keys the new tables reference, as 0001 made them (users: peewee's implicit ``id``).
    class User(Model):
        class Meta:
            table_name = "users"

    class AuthSession(Model):
        id = CharField(max_length=32, primary_key=True)

        class Meta:
            table_name = "auth_session"

    class RefreshToken(Model):
        """One link of a session's refresh-token chain (only its hash); spent links are kept, so a
        token presented twice is recognised as reuse."""

        session = ForeignKeyField(AuthSession, on_delete="CASCADE", column_name="auth_session_id")
        token_hash = CharField(max_length=64, unique=True)  # the lookup on every refresh
        issued_at = DateTimeField()
        spent_at = DateTimeField(null=True)

        class Meta:
            table_name = "refresh_tokens"

    class SigningKey(Model):
        """One key of the access-token key ring, encrypted under a key derived from the app secret;
        ``retired_at`` is set once a newer key has outlived the grace period."""

        kid = CharField(max_length=32, primary_key=True)
        encrypted_key = BlobField()
        created_at = DateTimeField()
        retired_at = DateTimeField(null=True)

        class Meta:
            table_name = "signing_keys"

    class Address(Model):
        """An address in a user's address book; orders copy it at checkout, so editing or deleting
        it never changes an order."""

        # Indexed (foreign key): "my addresses" is the only listing, keyset-paginated by id.
        user = ForeignKeyField(User, on_delete="CASCADE", column_name="user_id")
        street = CharField(max_length=200)
        city = CharField(max_length=100)
        state = CharField(max_length=100, null=True)
        postal_code = CharField(max_length=20, null=True)
        country = CharField(max_length=2)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            table_name = "addresses"

    create_tables(db, [RefreshToken, SigningKey, Address], safe=False)


def down(migrator: SchemaMigrator, db: Database) -> None:
    for table in ("addresses", "signing_keys", "refresh_tokens"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
