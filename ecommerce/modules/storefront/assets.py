"""The storefront's static files, each served under a URL that carries a hash of its content.

Why a content hash: a changed file gets a new URL, so every URL can be cached for a year (browsers and a
CDN alike) and a deploy never shows a page with yesterday's stylesheet. ``ECOMMERCE_STATIC_URL`` moves
the URLs to a CDN that pulls from this app's ``/static/``.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

DIRECTORY = Path(__file__).parent / "static"
#: a year: the URL changes whenever the content does
CACHE_CONTROL = "public, max-age=31536000, immutable"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    digest: str
    content_type: str

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


def hashed_name(name: str, digest: str) -> str:
    """``site.css`` -> ``site.3f2a9c1b0d4e5f67.css``."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"


class Assets:
    """Every file of ``static/``, read once, by its hashed name."""

    def __init__(self, base_url: str = "", directory: Path = DIRECTORY) -> None:
        self.base_url = base_url.rstrip("/")
        self._urls: dict[str, str] = {}
        self._files: dict[str, Asset] = {}
        for path in sorted(directory.iterdir()):
            if not path.is_file():
                continue
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:16]
            kind = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            hashed = hashed_name(path.name, digest)
            self._files[hashed] = Asset(body, digest, kind)
            self._urls[path.name] = f"{self.base_url}/static/{hashed}"

    def url(self, name: str) -> str:
        """The URL of ``static/<name>`` to put in a page (a KeyError for a file that is not there)."""
        return self._urls[name]

    def find(self, hashed: str) -> Asset | None:
        return self._files.get(hashed)

    def image_url(self, product_id: int, digest: str) -> str:
        return f"{self.base_url}/static/img/{product_id}.{digest}.svg"
