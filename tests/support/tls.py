"""One default TLS context for every httpx client of a test process.

Why: ``httpx.Client()`` builds a new ``ssl.SSLContext`` for each client and loads certifi's CA bundle into it
(about 18 ms of CPU, whether the client ever speaks TLS or not), and the suite makes a client for nearly
every live server, account and storefront visitor it starts; in a CPU-bound run that was a visible share
of the test processes' time. A context is safe to share between clients and threads once configured, so
the default one (``verify=True``, no client certificate) is built once and handed to every client that
asks for the default; a client given its own context or ``verify=False`` keeps it.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx._transports.default as transports


def share_default_ssl_context() -> None:
    """Make httpx's transports reuse one default context (idempotent)."""
    create = transports.create_ssl_context
    if getattr(create, "shares_default", False):
        return
    default = functools.cache(lambda trust_env: create(verify=True, cert=None, trust_env=trust_env))

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is True and cert is None:
            context: ssl.SSLContext = default(trust_env)
            return context
        return create(verify=verify, cert=cert, trust_env=trust_env)

    create_ssl_context.shares_default = True  # type: ignore[attr-defined]
    transports.create_ssl_context = create_ssl_context  # type: ignore[assignment]
