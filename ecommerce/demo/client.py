"""A small JSON-over-HTTP client that prints every call it makes, for the demo's transcript.

Standard library only (``urllib``): the demo must run from a plain ``pip install -e .`` without the
test extras.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class DemoError(Exception):
    """A step did not get the answer it needs: the demo stops and says which call failed and why."""


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Client:
    base_url: str
    out: Callable[[str], None] = print
    timeout: float = 15.0
    token: str | None = None
    calls: int = field(default=0, init=False)

    def request(self, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200,),
                headers: dict[str, str] | None = None, quiet: bool = False) -> Reply:
        """Send one request; a status outside ``expect`` (or no answer at all) raises DemoError."""
        data = None if body is None else json.dumps(body).encode()
        sent = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=sent)
        if not quiet:
            self.out(f"  -> {method} {path}")
        self.calls += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = Reply(response.status, _decode(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            reply = Reply(error.code, _decode(error.read()), dict(error.headers))
        except (urllib.error.URLError, OSError) as error:
            raise DemoError(f"{method} {path}: no answer from {self.base_url} ({error})") from error
        if reply.status not in expect:
            detail = reply.body.get("detail") or reply.body.get("title") if isinstance(reply.body, dict) else reply.body
            raise DemoError(f"{method} {path} answered {reply.status}, expected {expect}: {detail}")
        return reply

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).body

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("expect", (200, 201))
        return self.request("POST", path, body, **kwargs).body


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
