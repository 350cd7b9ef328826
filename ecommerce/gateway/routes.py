"""Each module's real HTTP routes, read from its blueprint (what ``ecommerce modules`` lists and the
gateway routes by)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ecommerce.kernel.module import Module


@dataclass(frozen=True, order=True)
class Route:
    path: str  # the public path pattern, e.g. /api/v1/products/<product_id:int>
    method: str
    #: Guarded by an Idempotency-Key (``@idempotent``): a retry with the same key does the work once.
    keyed: bool = field(default=False, compare=False)

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def module_routes(module: Module) -> list[Route]:
    """Every (method, path) the module's blueprint serves, sorted by path: under ``/api/v1``, or from the
    root for a site module (the storefront)."""
    if not module.blueprint:
        return []
    from ecommerce.app import API_PREFIX, _load
    from ecommerce.kernel.http.idempotency import MARK

    blueprint = _load(module.blueprint)()
    return sorted(
        Route(f"{'' if module.site else API_PREFIX}/{route.uri.lstrip('/')}", method,
              keyed=bool(getattr(route.handler, MARK, False)))
        for route in blueprint._future_routes
        for method in route.methods or ()
    )
