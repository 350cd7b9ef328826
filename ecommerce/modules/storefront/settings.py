"""The storefront's settings: where its pages load their assets from. Read at start-up from
``ECOMMERCE_STOREFRONT_STATIC_URL`` (or the older ``ECOMMERCE_STATIC_URL``, which keeps working) or the
config file's ``[storefront]`` table, and kept here by the module's setup for the pages."""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce.kernel.module import ModuleContext, Runtime
from ecommerce.kernel.module_settings import setting, text


@dataclass(frozen=True)
class StorefrontSettings:
    #: A CDN in front of this app's ``/static`` (every asset URL carries a content hash); empty: this app.
    static_url: str = setting("", text(), legacy="ECOMMERCE_STATIC_URL",
                              doc="where the pages load their assets from (a CDN); empty: this app")


runtime: Runtime[StorefrontSettings] = Runtime("storefront")


def static_url() -> str:
    return runtime.get().static_url


def setup(context: ModuleContext[StorefrontSettings]) -> None:
    """The module's start: keep its settings for the pages."""
    runtime.start(context.settings)
