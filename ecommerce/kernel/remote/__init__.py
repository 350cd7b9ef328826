"""Remote facades: a module's ``api`` called in-process or over HTTP on another service (issue 16,
ADR 0003). :mod:`.facade` marks the functions, :mod:`.client` is the HTTP adapter, :mod:`.tokens` the
service-to-service tokens, :mod:`.codec` the wire format; the routes live in ``kernel/http/internal.py``."""

from __future__ import annotations

from ecommerce.kernel.remote.facade import Remotable, is_remote, remotable

__all__ = ["Remotable", "is_remote", "remotable"]
