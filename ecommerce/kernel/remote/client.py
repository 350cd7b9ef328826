"""The HTTP adapter: a facade call as ``POST /internal/<module>/<function>`` on the hosting service.

Failure behaviour, the contract callers rely on:

- the callee's expected errors come back as the same exception class with the same attributes
  (``InsufficientStock`` with its ``short``), because the route answers them as an ``error`` body;
- the callee down, refusing, answering 5xx or slower than ``timeout``: :class:`RemoteUnavailable`, a
  :class:`ServiceUnavailable`, which the HTTP layer answers as 503 problem details with ``Retry-After``;
- idempotent calls are tried ``1 + retries`` times (a short pause between); the others exactly once,
  since a timed-out call may have happened: the caller compensates (checkout releases its reference);
- a service of several instances (``http://a|http://b``): calls take turns over them, a retry goes to the
  next one, and an instance that refuses the connection is skipped for any call, idempotent or not (a
  refused connection carried nothing, so nothing can have happened twice).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import ssl
import time
from typing import TYPE_CHECKING, Any

from ecommerce.kernel.errors import ServiceUnavailable
from ecommerce.kernel.remote import codec
from ecommerce.kernel.remote.facade import Remotable
from ecommerce.kernel.remote.tokens import ServiceTokens

# httpx is imported by the adapter that uses it: importing it costs every ``ecommerce`` command a tenth
# of a second, and only a module served by another process calls out over HTTP.
if TYPE_CHECKING:
    import httpx

log = logging.getLogger("ecommerce.remote")
INTERNAL_PREFIX = "/internal"
TOKEN_HEADER = "Authorization"
RETRY_PAUSE = 0.1  # seconds before the first retry, doubled for the next


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default context (certifi's CA bundle, certificates verified), built once per process.

    Why: each ``httpx.Client`` otherwise builds its own and loads the bundle into it, about 18 ms of CPU,
    whether it ever speaks TLS or not; a service makes a client per instance of every module it calls
    remotely, each time a kernel starts. A configured context is safe to share between clients and threads.
    """
    import httpx

    context: ssl.SSLContext = httpx.create_ssl_context()
    return context


class RemoteUnavailable(ServiceUnavailable):
    """The service hosting a module did not answer in time (down, restarting, overloaded)."""

    slug, title = "service-unavailable", "Service unavailable"


class HttpAdapter:
    """Calls of one remote module, to one service (``base_url``; its instances' URLs separated by ``|``),
    signed as this service."""

    def __init__(self, module: str, service: str, base_url: str, tokens: ServiceTokens, *,
                 timeout: float, retries: int, retry_after: int = 5) -> None:
        import httpx

        self.module, self.service, self.tokens = module, service, tokens
        self.retries, self.retry_after = retries, retry_after
        self.clients = [httpx.Client(base_url=url.strip().rstrip("/"), timeout=httpx.Timeout(timeout),
                                     headers={"Content-Type": "application/json"}, verify=_tls_context())
                        for url in base_url.split("|") if url.strip()]
        self._turn = itertools.count()

    def call(self, spec: Remotable, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        import httpx

        body = json.dumps({"args": codec.encode(list(args)),
                           "kwargs": {k: codec.encode(v) for k, v in kwargs.items()}})
        path = f"{INTERNAL_PREFIX}/{self.module}/{spec.name}"
        attempts = 1 + (self.retries if spec.idempotent else 0)
        first = next(self._turn)  # instances take turns
        pause = RETRY_PAUSE
        attempt = refused = 0
        while attempt < attempts:
            client = self.clients[(first + attempt + refused) % len(self.clients)]
            try:
                response = client.post(path, content=body,
                                       headers={TOKEN_HEADER: f"Bearer {self.tokens.issue(self.service)}"})
            except httpx.ConnectError as exc:
                failure = f"{type(exc).__name__}"
                if refused + 1 < len(self.clients):  # nothing was sent: another instance may take it at once
                    refused += 1
                    log.warning("remote instance refused", extra={"target": f"{self.service}:{client.base_url}"})
                    continue
            except httpx.HTTPError as exc:
                failure = f"{type(exc).__name__}"
            else:
                if response.status_code < 500 or _is_error_body(response):
                    return self._answer(spec, response)
                failure = f"HTTP {response.status_code}"
            attempt += 1
            log.warning("remote call failed", extra={"target": f"{self.service}:{path}", "attempt": attempt,
                                                     "error": failure})
            if attempt < attempts:
                time.sleep(pause)
                pause *= 2
        raise RemoteUnavailable(
            f"The {self.module} service ({self.service}) is unavailable ({failure}); try again shortly.",
            retry_after=self.retry_after)

    def _answer(self, spec: Remotable, response: httpx.Response) -> Any:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise RemoteUnavailable(f"The {self.module} service answered {spec.name} with HTTP "
                                    f"{response.status_code} and no facade body.", retry_after=self.retry_after)
        if "error" in data:
            raise codec.decode_error(data["error"])
        return codec.decode(data.get("result"))

    def close(self) -> None:
        for client in self.clients:
            client.close()


def _is_error_body(response: httpx.Response) -> bool:
    """A 5xx that carries a facade error (e.g. the callee's own dependency unavailable): not a retry."""
    return response.headers.get("content-type", "").startswith("application/json") and b'"error"' in response.content
