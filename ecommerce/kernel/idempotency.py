"""Idempotency keys: a retried request with the same key does its work once.

The contract (API.md): same key + same body replays the first response; same key + another body is
422; the same key while the first request is still running is 409. Keys are scoped per caller and kept
24 hours. The first request *claims* the key with an insert that only one caller can win (unique index),
never with a look-up followed by a write.

A response is stored only when the request finished with a status below 500; after a crash or a 5xx
the claim is dropped, so the client can simply retry. A claim left behind by a process that died is
taken over after ``stale_after`` seconds (30 by default; until then the retry gets 409 with
``Retry-After``). Taking over is safe even if the first owner was only slow, not dead: each claim carries
its moment (``created_at``, renewed by a take-over) as a fencing token, and storing the answer, which a
use case does inside its own transaction, is conditional on it. An owner that lost its key therefore
fails that transaction (409) instead of committing the work a second time.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from typing import Any

from peewee import EXCLUDED, AutoField, CharField, DatabaseProxy, DateTimeField, IntegerField, Model, TextField

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import Conflict, Unprocessable
from ecommerce.kernel.statements import Statement

TTL = datetime.timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def request_hash(method: str, path: str, body: Any, key: bytes, sensitive: frozenset[str] = frozenset()) -> str:
    """A keyed HMAC of the request without its ``sensitive`` fields (the module that owns the route names
    them, e.g. payments' CVC: a 3-4 digit value would fall to brute force even hashed): tells "same request"
    from "another body" without the stored value revealing anything about the body."""
    if isinstance(body, dict) and sensitive:
        body = {k: v for k, v in body.items() if k not in sensitive}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, f"{method} {path}\n{canonical}".encode(), hashlib.sha256).hexdigest()


def taken_over() -> Conflict:
    return Conflict("This request's Idempotency-Key was taken over by a retry; that retry answers it.")


@dataclass(frozen=True)
class Owned:
    """The key is this request's: go ahead. ``since`` is the claim's fencing token (see the module doc)."""

    since: datetime.datetime


@dataclass
class Claim:
    """A key this request owns. A use case that writes to the store's database may store its response
    inside its own transaction (:meth:`respond`): then the work and its replay commit together, and
    the route does not store it again afterwards."""

    store: IdempotencyStore
    scope: str
    key: str
    owned: Owned
    #: What the route's ``preload`` read in the claim's transaction (None without one).
    preloaded: Any = None
    responded: bool = False

    def respond(self, status: int, body: Any) -> None:
        """Store the answer. Raises :class:`Conflict` when a retry took the key over: called inside the use
        case's transaction, that undoes this request's work (the retry does it once)."""
        if not self.store.finish(self.scope, self.key, status, body, self.owned):
            raise taken_over()
        self.responded = True


class IdempotencyStore:
    """The ``<module>_idempotency_keys`` table of one module."""

    def __init__(self, module: str, database: DatabaseProxy, stale_after: float = 30.0,
                 sensitive: frozenset[str] = frozenset()) -> None:
        class IdempotencyKey(Model):
            id = AutoField()
            scope = CharField(max_length=100)
            key = CharField(max_length=255)
            request_hash = CharField(max_length=64)
            status = CharField(max_length=16)
            response_status = IntegerField(null=True)
            response_body = TextField(null=True)
            created_at = DateTimeField()
            expires_at = DateTimeField()

            class Meta:
                table_name = f"{module}_idempotency_keys"

        IdempotencyKey._meta.set_database(database)
        self.Key = IdempotencyKey
        self.database = database
        #: Body fields never part of a request's fingerprint, even hashed (the module's secrets: a CVC...).
        self.sensitive = sensitive
        self.stale_after = datetime.timedelta(seconds=stale_after)
        Key = IdempotencyKey
        # The statements of every idempotent request, compiled once (peewee building and compiling them was
        # 5-6 % of the app's CPU in a checkout: benchmarks/http --profile --profile-gil). The claim is one
        # upsert: a new key is inserted, this caller's expired key is replaced in place (its row renewed as a
        # fresh claim), a live key changes nothing (0 rows). It used to be a delete of the expired key and an
        # insert in a transaction of their own, a savepoint inside the route's (four round trips, now one).
        self._claim_key = Statement(database, lambda scope, key, fingerprint, now, expires: Key.insert(
            scope=scope, key=key, request_hash=fingerprint, status="in_flight", created_at=now, expires_at=expires,
        ).on_conflict(
            conflict_target=[Key.scope, Key.key],
            update={Key.request_hash: EXCLUDED.request_hash, Key.status: EXCLUDED.status,
                    Key.response_status: None, Key.response_body: None, Key.created_at: EXCLUDED.created_at,
                    Key.expires_at: EXCLUDED.expires_at},
            where=Key.expires_at < EXCLUDED.created_at,
        ).as_rowcount(), str, str, str, str, str)
        self._store_answer = Statement(database, lambda status, body, scope, key, since: Key.update(
            status="done", response_status=status, response_body=body,
        ).where((Key.scope == scope) & (Key.key == key) & (Key.status == "in_flight")
                & (Key.created_at == since)), int, str, str, str, str)

    def claim(self, scope: str, key: str, fingerprint: str) -> StoredResponse | Owned:
        """Own the key (:class:`Owned`: go ahead), or get the stored response to replay.

        Raises :class:`Conflict` (409, with the seconds until a dead owner's claim may be taken over)
        while another request holds the key, :class:`Unprocessable` (422) when the key was used with
        another request.
        """
        Key = self.Key
        now = utcnow()
        # One statement, so no savepoint inside the caller's transaction: claim a new key, or this caller's
        # expired one (it can be used again). Nothing changed means a live key: look at it.
        if self._claim_key.execute(scope, key, fingerprint, now, now + TTL) == 1:
            return Owned(now)
        row = Key.get_or_none((Key.scope == scope) & (Key.key == key))
        if row is None:  # released between our insert and read: try once more
            return self.claim(scope, key, fingerprint)
        if row.request_hash != fingerprint:
            raise Unprocessable("This Idempotency-Key was already used with a different request.")
        if row.status == "done":
            return StoredResponse(int(row.response_status or 200), json.loads(row.response_body or "null"))
        took = (
            Key.update(created_at=now)
            .where((Key.id == row.id) & (Key.status == "in_flight") & (Key.created_at < now - self.stale_after))
            .execute()
        )
        if took == 1:
            return Owned(now)  # its owner died, or is too slow to be waited for: fenced off (finish)
        # Never more than stale_after: a concurrent owner may have claimed a moment after our ``now``.
        wait = min(self.stale_after, self.stale_after - (now - row.created_at))
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.",
                       retry_after=max(1, math.ceil(wait.total_seconds())))

    def finish(self, scope: str, key: str, status: int, body: Any, owned: Owned) -> bool:
        """Store the response (below 500) or drop the claim. Called inside the use case's own transaction
        (see :class:`Claim`), the response is stored with the work it describes: one commit for both.

        False when the key is no longer this owner's: a retry took over a claim that looked dead, and that
        retry answers it (:meth:`Claim.respond` turns this into a Conflict that undoes the use case).
        """
        if status >= 500:
            self.release(scope, key, owned)
            return True
        return self._store_answer.execute(status, json.dumps(body, default=str), scope, key, owned.since) == 1

    def release(self, scope: str, key: str, owned: Owned) -> None:
        """Drop this owner's claim (never a claim a retry has taken over since)."""
        Key = self.Key
        Key.delete().where((Key.scope == scope) & (Key.key == key) & (Key.status == "in_flight")
                           & (Key.created_at == owned.since)).execute()

    def purge_expired(self) -> int:
        return int(self.Key.delete().where(self.Key.expires_at < utcnow()).execute())
