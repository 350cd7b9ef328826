"""The Redis document store: each notification a hash, indexed by sorted sets, expired by TTL.

Keys (``P`` = ``<namespace>:notifications``, so test runs and deployments sharing a Redis never mix):

- ``P:doc:<id>``       hash, the document; ``EXPIRE`` = the retention period;
- ``P:feed:<user>``    sorted set of the recipient's document ids, score = created_at in microseconds;
- ``P:unread:<user>``  the same, for unread documents only (the unread count is one ``ZCOUNT``);
- ``P:due``            pending document ids, score = when a worker may next try (retry time or lease end).

Each write is one Lua script, which Redis runs atomically: create-if-absent plus its index entries
together, a claim only if pending and due, a finish only by the claim's holder, read only by the
recipient. Members older than the retention period are trimmed from the sorted sets on write and
ignored on read, so an expired hash never shows up. (One instance or one hash slot: the scripts
touch several keys, so a Redis Cluster deployment would need ``{hash tags}`` — see ADR 0018.)
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis

from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.errors import ServiceUnavailable
from ecommerce.modules.notifications.documents import FAILED, SENT, Notification, Outcome, Position, micros

_PUT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ARGV[1])
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[5])
  redis.call('EXPIRE', KEYS[i], ARGV[1])
end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4]) end
return 1
"""

_CLAIM = """
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[3]) then return false end
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return false
end
redis.call('HSET', KEYS[1], 'claim', ARGV[2], 'due_at', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return redis.call('HGETALL', KEYS[1])
"""

_FINISH = """
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[2] or redis.call('HGET', KEYS[1], 'status') ~= 'pending' then
  return 0
end
redis.call('HDEL', KEYS[1], 'claim', 'last_error', 'due_at')
redis.call('HSET', KEYS[1], 'status', ARGV[3], unpack(ARGV, 5))
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) else redis.call('ZREM', KEYS[2], ARGV[1]) end
return 1
"""

_READ = """
if redis.call('HGET', KEYS[1], 'recipient_id') ~= ARGV[1] then return 0 end
if not redis.call('HGET', KEYS[1], 'read_at') then redis.call('HSET', KEYS[1], 'read_at', ARGV[3]) end
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""

F = TypeVar("F", bound=Callable[..., Any])

_TIMES = ("created_at", "due_at", "sent_at", "failed_at", "read_at")


def _answering(method: F) -> F:
    """Redis down is a 503 for a reader and a retry for the relay and the delivery job — never a 500."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"The notification store is unavailable ({type(exc).__name__}).") from exc

    return wrapper  # type: ignore[return-value]


def _pairs(values: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name, value in values.items():
        if value is None:
            continue
        out += [name, value.isoformat() if isinstance(value, datetime.datetime) else str(value)]
    return out


def _document(fields: dict[str, str]) -> Notification:
    times = {name: datetime.datetime.fromisoformat(fields[name]) if fields.get(name) else None for name in _TIMES}
    return Notification(
        id=fields["id"], recipient_id=int(fields["recipient_id"]), status=fields["status"],
        attempts=int(fields.get("attempts", 0)), last_error=fields.get("last_error"),
        **{name: fields[name] for name in Notification.CONTENT}, **times,  # type: ignore[arg-type]
    )


class RedisDocumentStore:
    def __init__(self, url: str, namespace: str, retention: datetime.timedelta) -> None:
        # Untyped on purpose: with decode_responses=True every reply is str, which the stubs cannot know.
        self.redis: Any = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = f"{namespace}:notifications"
        self.retention = retention
        self._put = self.redis.register_script(_PUT)
        self._claim = self.redis.register_script(_CLAIM)
        self._finish = self.redis.register_script(_FINISH)
        self._read = self.redis.register_script(_READ)

    def doc_key(self, notification_id: str) -> str:
        return f"{self.prefix}:doc:{notification_id}"

    def _feed(self, user_id: int) -> str:
        return f"{self.prefix}:feed:{user_id}"

    def _unread(self, user_id: int) -> str:
        return f"{self.prefix}:unread:{user_id}"

    @property
    def _due(self) -> str:
        return f"{self.prefix}:due"

    def _cutoff(self) -> int:
        return micros(utcnow() - self.retention)

    @_answering
    def put_if_absent(self, doc: Notification) -> bool:
        fields = {name: getattr(doc, name) for name in (
            "id", "recipient_id", "status", "attempts", "last_error", *Notification.CONTENT, *_TIMES)}
        args = [int(self.retention.total_seconds()), micros(doc.created_at),
                micros(doc.due_at) if doc.due_at else "", doc.id, self._cutoff(), *_pairs(fields)]
        keys = [self.doc_key(doc.id), self._feed(doc.recipient_id), self._unread(doc.recipient_id), self._due]
        return bool(self._put(keys=keys, args=args))

    def put_many_if_absent(self, docs: Sequence[Notification]) -> int:
        return sum(self.put_if_absent(doc) for doc in docs)  # one script call each: already one round trip

    @_answering
    def get(self, notification_id: str) -> Notification | None:
        fields = self.redis.hgetall(self.doc_key(notification_id))
        return _document(fields) if fields else None

    @_answering
    def for_recipient(self, user_id: int, limit: int, after: Position | None = None) -> list[Notification]:
        feed, floor = self._feed(user_id), self._cutoff()
        if after is None:
            ids = self.redis.zrevrangebyscore(feed, "+inf", floor, start=0, num=limit)
        else:
            # Newest first = (score desc, member desc). Members tied with the cursor's score come first
            # in that order; skip the ones at or above the cursor's id, then read on.
            score = micros(after.created_at)
            skip = sum(1 for member in self.redis.zrangebyscore(feed, score, score) if member >= after.id)
            ids = self.redis.zrevrangebyscore(feed, score, floor, start=skip, num=limit)
        with self.redis.pipeline(transaction=False) as pipe:
            for notification_id in ids:
                pipe.hgetall(self.doc_key(notification_id))
            found = pipe.execute()
        return [_document(fields) for fields in found if fields]

    @_answering
    def unread_count(self, user_id: int) -> int:
        return int(self.redis.zcount(self._unread(user_id), self._cutoff(), "+inf"))

    @_answering
    def mark_read(self, user_id: int, notification_id: str, at: datetime.datetime) -> Notification | None:
        keys = [self.doc_key(notification_id), self._unread(user_id)]
        if not self._read(keys=keys, args=[str(user_id), notification_id, at.isoformat()]):
            return None
        return self.get(notification_id)

    @_answering
    def due(self, now: datetime.datetime, limit: int) -> list[str]:
        return list(self.redis.zrangebyscore(self._due, "-inf", micros(now), start=0, num=limit))

    @_answering
    def claim(self, notification_id: str, token: str, now: datetime.datetime,
              lease_until: datetime.datetime) -> Notification | None:
        keys = [self.doc_key(notification_id), self._due]
        flat = self._claim(keys=keys, args=[notification_id, token, micros(now), micros(lease_until),
                                            lease_until.isoformat()])
        if not flat:
            return None
        return _document(dict(zip(flat[::2], flat[1::2], strict=True)))

    def claim_many(self, notification_ids: Sequence[str], token: str, now: datetime.datetime,
                   lease_until: datetime.datetime) -> list[Notification]:
        claimed = (self.claim(i, token, now, lease_until) for i in notification_ids)  # one script call each
        return [doc for doc in claimed if doc is not None]

    @_answering
    def finish(self, notification_id: str, token: str, outcome: Outcome) -> bool:
        values: dict[str, Any] = {"last_error": outcome.error}
        if outcome.status == SENT:
            values["sent_at"] = outcome.at
        elif outcome.status == FAILED:
            values["failed_at"] = outcome.at
        else:
            values["due_at"] = outcome.due_at
        due = micros(outcome.due_at) if outcome.due_at and outcome.status not in (SENT, FAILED) else ""
        keys = [self.doc_key(notification_id), self._due]
        return bool(self._finish(keys=keys, args=[notification_id, token, outcome.status, due, *_pairs(values)]))

    def purge_expired(self, now: datetime.datetime) -> int:
        return 0  # every key carries its own TTL

    def ping(self) -> bool:
        return bool(self.redis.ping())
