"""Product pictures without image files: a deterministic SVG drawn from the product's name and category.

The same name and category always give the same bytes, so the picture's URL carries a hash of its
content and can be cached for a year, like every other asset.
"""

from __future__ import annotations

import hashlib
from html import escape

#: calm, readable background colours (the text is dark on all of them)
PALETTE = ("#f6d8ae", "#c7e9c0", "#c6dbef", "#fdd0a2", "#dadaeb", "#fcbba1", "#d9f0d3", "#fee391",
           "#e5d8bd", "#ccebc5")
SHAPES = 3


def _initials(name: str) -> str:
    words = [w for w in name.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def svg(name: str, category: str | None) -> bytes:
    """The picture of a product: colour and shape from its category, initials from its name."""
    seed = hashlib.sha256(f"{category or ''}\n{name}".encode()).digest()
    family = hashlib.sha256((category or "").encode()).digest()
    background = PALETTE[family[0] % len(PALETTE)]
    accent = PALETTE[(family[1] + 3) % len(PALETTE)]
    shape = family[2] % SHAPES
    x, y, size = 60 + seed[0] % 200, 40 + seed[1] % 120, 60 + seed[2] % 80
    if shape == 0:
        mark = f'<circle cx="{x}" cy="{y}" r="{size}" fill="{accent}"/>'
    elif shape == 1:
        mark = f'<rect x="{x - size}" y="{y - size // 2}" width="{size * 2}" height="{size}" rx="18" fill="{accent}"/>'
    else:
        mark = f'<polygon points="{x},{y - size} {x + size},{y + size} {x - size},{y + size}" fill="{accent}"/>'
    label = escape(category or "Product")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 240" role="img" '
        f'aria-label="{escape(name)}">'
        f'<rect width="320" height="240" fill="{background}"/>{mark}'
        '<text x="160" y="138" font-family="system-ui,sans-serif" font-size="64" font-weight="700" '
        f'text-anchor="middle" fill="#222">{escape(_initials(name))}</text>'
        '<text x="160" y="214" font-family="system-ui,sans-serif" font-size="18" text-anchor="middle" '
        f'fill="#333">{label}</text></svg>'
    ).encode()


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]
