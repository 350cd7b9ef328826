"""Pages rendered once for every visitor without a session, kept while the data they show is unchanged.

Why: rendering the templates again for each visitor costs several times the cached JSON detail a product
page shows, and a visitor's product page is the same for every visitor: no session, and no form that
posts (its "Add to cart" leads to the login first), so no CSRF token and no cookie. A page is kept as the
bytes sent. An entry is keyed by the very cached objects it was rendered from (the catalog cache hands out
the same bytes until the product or the category tree changes), so a price change or a stock move renders
the page again: a kept page is never staler than the JSON detail.

Used from one event loop (a worker's), never from threads: no lock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class VisitorPages:
    """A bounded LRU of rendered pages, each with the objects it was rendered from."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, tuple[tuple[object, ...], bytes]] = OrderedDict()

    def get(self, key: Hashable, sources: tuple[object, ...]) -> bytes | None:
        """The page for ``key``, if it was rendered from these same ``sources``."""
        found = self._pages.get(key)
        if found is None or not _same(found[0], sources):
            return None
        self._pages.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, sources: tuple[object, ...], page: bytes) -> None:
        """Keep ``page`` while ``sources`` stay the cached ones."""
        self._pages[key] = (sources, page)
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def _same(kept: tuple[object, ...], now: tuple[object, ...]) -> bool:
    """The very same objects (we hold the kept ones, so an identical id cannot be a new object's)."""
    return len(kept) == len(now) and all(a is b for a, b in zip(kept, now, strict=True))
