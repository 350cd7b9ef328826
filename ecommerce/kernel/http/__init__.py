"""The kernel's HTTP glue: the only kernel code that knows Sanic.

Module ``http.py`` files use these helpers so every route validates, documents, authenticates and
fails the same way.
"""

from ecommerce.kernel.concurrency import run_sync
from ecommerce.kernel.http.auth import admin_only, authenticated, principal
from ecommerce.kernel.http.endpoint import endpoint
from ecommerce.kernel.http.schema import ApiModel
from ecommerce.kernel.http.validation import parse_body

__all__ = ["ApiModel", "admin_only", "authenticated", "endpoint", "parse_body", "principal", "run_sync"]
