"""ecommerce: a reference e-commerce platform built as a modular monolith.

Use a module from a script without the web app::

    import ecommerce
    kernel = ecommerce.bootstrap(migrate=True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ecommerce.kernel.bootstrap import Kernel
    from ecommerce.kernel.settings import Settings


def bootstrap(settings: Settings | None = None, *, migrate: bool = False) -> Kernel:
    """Start the kernel (settings, databases, modules) for use outside the web app."""
    from ecommerce.kernel.bootstrap import bootstrap as _bootstrap

    return _bootstrap(settings, migrate=migrate)


