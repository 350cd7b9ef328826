"""The kernel's HTTP glue: the only kernel code that knows Sanic.

Module ``http.py`` files use these helpers so every route validates, documents, authenticates and
fails the same way.
"""

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.http.auth import admin_only, authenticated, principal
from ecommerce.kernel.http.endpoint import endpoint
from ecommerce.kernel.http.pagination import page_request, page_response
from ecommerce.kernel.http.throttle import strict as strict_throttle
from ecommerce.kernel.http.validation import parse_body
from ecommerce.kernel.schema import ApiModel

__all__ = [
    "ApiModel",
    "admin_only",
    "authenticated",
    "endpoint",
    "page_request",
    "page_response",
    "parse_body",
    "principal",
    "run_sync",
    "strict_throttle",
]
