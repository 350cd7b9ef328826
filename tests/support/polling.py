"""One way to wait in a test: ``eventually(check)``.

Things a test waits for happen on another clock (a background relay, a job interval, a broker's retry
delay, a process starting or stopping). A fixed ``time.sleep`` is either too short on a loaded machine
(a flaky test) or too long everywhere else (a slow one); a hand-written loop repeats the deadline logic
and usually fails with a bare ``assert False``. ``eventually`` polls quickly, returns as soon as the
check holds, and on timeout fails with what the check last saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> T:
    """Call ``check`` until it returns something truthy without raising ``AssertionError``; return that.

    ``check`` may be a predicate (``lambda: queue.depth() == 0``), a getter (``lambda: mail.to(address)``:
    the mail is returned) or a block of asserts (retried until they pass). After ``timeout`` seconds the
    last ``AssertionError`` is raised again, or one naming ``what`` and the last value seen.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        else:
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what or 'the check'} did not hold within {timeout} s (last: {value!r})")
        time.sleep(interval)
