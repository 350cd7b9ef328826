"""Read replicas, chosen explicitly: a read goes to a module's replica only where the code says it may.

Why explicit (Saleor's way: ``.using(replica)`` on the querysets it chose) rather than automatic routing of
every ``SELECT``: a read that decides a write (stock before a reservation, a session before a payment)
must see the primary, and only the author of a use case knows which reads are only *shown*. So a use case
marks itself with :func:`replica_reads` (product pages and listings, search, recommendations, order
history), and inside it the module's database sends plain reads to the replica when all of these hold:

- no transaction is open on the primary in this thread (a transaction's reads stay with its writes);
- the request (or script call) has not written yet: after its first write, its reads stay on the primary;
- the user has not written in the last ``ECOMMERCE_READ_YOUR_WRITES`` seconds (read-your-writes across
  requests and instances: the mark lives in the kernel cache, Redis when configured);
- the replica answers and lags the primary by at most ``ECOMMERCE_REPLICA_MAX_LAG`` seconds (checked at
  most once a second; a query that fails on the replica is retried on the primary, once).

A write inside a :func:`replica_reads` block raises :class:`ReplicaWriteError` on every database, SQLite
included, so a wrongly marked use case fails its tests loudly; the replica's connections are also opened
read-only, so nothing can write through them even by another path.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import psycopg2

log = logging.getLogger("ecommerce.replicas")
P = ParamSpec("P")
T = TypeVar("T")

#: How often a replica's health and lag are checked (by whichever thread reads first after that).
CHECK_EVERY = 1.0
#: Seconds to wait for a replica's connection before counting it as down.
CONNECT_TIMEOUT = 2

_READ = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)
#: Statements that neither read nor write rows: transaction control and session settings.
_NEUTRAL = re.compile(r"^\s*(BEGIN|START|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|PRAGMA)\b", re.IGNORECASE)
_WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|FOR\s+(NO\s+KEY\s+)?UPDATE|FOR\s+SHARE)\b", re.IGNORECASE)

#: The SQL that says how far behind a standby is. With nothing left to replay it is 0 only while the WAL
#: receiver is streaming: a standby cut off from its primary has nothing to replay *and* is stale.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                 AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END
"""


class ReplicaWriteError(RuntimeError):
    """A statement that writes ran inside :func:`replica_reads`: the use case is marked wrongly."""


def is_read(sql: str) -> bool:
    """Whether a statement only reads (``SELECT`` / ``WITH`` without a write or a row lock)."""
    return bool(_READ.match(sql)) and not _WRITE_WORDS.search(sql)


@dataclass
class ReadScope:
    """One request or one script call. ``pinned``: the caller wrote recently (read-your-writes);
    ``wrote``: this scope has written. Either keeps its replica reads on the primary."""

    pinned: bool = False
    wrote: bool = False


_scope: ContextVar[ReadScope | None] = ContextVar("read_scope", default=None)
_replica_ok: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def read_scope(pinned: bool = False) -> Iterator[ReadScope]:
    """Open a scope (the HTTP middleware opens one per request); it travels into ``run_sync`` threads."""
    scope = ReadScope(pinned=pinned)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def enter_scope(scope: ReadScope) -> None:
    """Make ``scope`` current for the rest of this task (a request: the middleware calls this)."""
    _scope.set(scope)


def current_scope() -> ReadScope | None:
    return _scope.get()


def replica_reads(fn: Callable[P, T]) -> Callable[P, T]:
    """Mark a use case whose reads may be served by a replica (see the module docstring for when)."""

    @functools.wraps(fn)
    def marked(*args: P.args, **kwargs: P.kwargs) -> T:
        token = _replica_ok.set(True)
        try:
            return fn(*args, **kwargs)
        finally:
            _replica_ok.reset(token)

    return marked


def in_replica_reads() -> bool:
    return _replica_ok.get()


def wants_replica() -> bool:
    """Inside a marked use case, in a scope that has neither written nor is pinned to the primary."""
    if not _replica_ok.get():
        return False
    scope = _scope.get()
    return scope is None or not (scope.pinned or scope.wrote)


#: Whether a statement writes, by its text: compiled statements (kernel/statements.py) repeat the same few
#: texts, and the two regular expressions over each were 3 % of a checkout's CPU in the app (py-spy).
_WRITES: dict[str, bool] = {}


def before_primary_statement(sql: str) -> None:
    """Every statement the primary runs passes here: a write marks the scope, and is refused in a
    :func:`replica_reads` block."""
    writes = _WRITES.get(sql)
    if writes is None:
        if _NEUTRAL.match(sql):  # not kept: savepoints are named afresh each time
            return
        writes = not is_read(sql)
        if len(_WRITES) < 4096:  # a bound for text built per call (peewee's uncompiled queries)
            _WRITES[sql] = writes
    if not writes:
        return
    if _replica_ok.get():
        raise ReplicaWriteError(f"a write inside a use case marked replica_reads: {sql[:80]!r}")
    scope = _scope.get()
    if scope is not None:
        scope.wrote = True


@dataclass(frozen=True)
class ReplicaState:
    status: str  # "ok" | "lagging" | "down"
    lag: float | None = None
    error: str | None = None


class Replica:
    """One module's replica: its read-only database, its last known health, and its counters."""

    def __init__(self, module: str, database: Any, dsn: dict[str, Any], max_lag: float,
                 on_read: Callable[[str, str], None] | None = None) -> None:
        self.module = module
        self.database = database
        self._dsn = dsn
        self.max_lag = max_lag
        self._on_read = on_read or (lambda module, target: None)
        self._state = ReplicaState("down", error="not checked yet")
        self._checked = 0.0
        self._lock = threading.Lock()

    @property
    def state(self) -> ReplicaState:
        return self._state

    def check(self) -> ReplicaState:
        """Ask the replica how far behind it is (a connection of its own, so a request's is never reused)."""
        try:
            conn = psycopg2.connect(connect_timeout=CONNECT_TIMEOUT, **self._dsn)
            try:
                with conn.cursor() as cur:
                    cur.execute(LAG_SQL)
                    in_recovery, lag = cur.fetchone()
            finally:
                conn.close()
        except psycopg2.Error as exc:
            state = ReplicaState("down", error=type(exc).__name__)
        else:
            lag = float(lag) if lag is not None else None
            if not in_recovery:  # a promoted replica is a primary now: reading it is not what was asked
                state = ReplicaState("down", error="not a standby (promoted?)")
            elif lag is None or lag > self.max_lag:
                state = ReplicaState("lagging", lag=lag)
            else:
                state = ReplicaState("ok", lag=lag)
        if state.status != self._state.status and self._checked:  # a change, not the first look
            log.warning("replica %s", state.status, extra={"db_module": self.module, "lag": state.lag,
                                                          "error": state.error})
        self._state = state
        self._checked = time.monotonic()
        return state

    def usable(self) -> bool:
        """Healthy as of the last check, re-checked at most every ``CHECK_EVERY`` seconds by one thread."""
        if time.monotonic() - self._checked >= CHECK_EVERY and self._lock.acquire(blocking=False):
            try:
                if time.monotonic() - self._checked >= CHECK_EVERY:
                    self.check()
            finally:
                self._lock.release()
        return self._state.status == "ok"

    def mark_down(self, error: BaseException) -> None:
        """A query failed on the replica: stop using it until the next check says otherwise."""
        self._state = ReplicaState("down", error=type(error).__name__)
        self._checked = time.monotonic()
        log.warning("replica query failed, reading from the primary", extra={"db_module": self.module,
                                                                             "error": repr(error)})
        with contextlib.suppress(Exception):  # the connection is already broken; the pool drops it
            self.database.close()

    def counted(self, target: str) -> None:
        self._on_read(self.module, target)

    def close(self) -> None:
        if not self.database.is_closed():
            self.database.close()
        self.database.close_all()
