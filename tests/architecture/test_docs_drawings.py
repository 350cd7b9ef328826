"""The drawings of the docs site are readable: every image opens full size (mkdocs-glightbox, its script
and stylesheet served by the site itself) and the checkout sequence diagram really renders, in a real
browser, from the site's own copy of Mermaid (no CDN)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support import browser
from tests.support.static_site import DOCS_SITE

ROOT = Path(__file__).resolve().parents[2]
#: One build of the site for the whole run (``tests/architecture/conftest.py``).
pytestmark = pytest.mark.xdist_group(DOCS_SITE)


def test_every_drawing_opens_full_size_with_assets_from_the_site(site: Path) -> None:
    html = (site / "diagrams" / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html) + re.findall(r'<link[^>]*href="([^"]+\.css)"', html)
    assert "../assets/javascripts/glightbox.min.js" in scripts and "../javascripts/mermaid.min.js" in scripts
    assert not [s for s in scripts if re.match(r"(https?:)?//", s)], scripts
    images = re.findall(r"<img [^>]*>", html)
    wrapped = re.findall(r'<a class="glightbox"[^>]*>\s*<img ', html)
    assert len(images) >= 8 and len(wrapped) == len(images)


def test_the_checkout_sequence_diagram_renders_in_a_browser(served: str) -> None:
    with browser.launch() as chrome:
        page = chrome.new_page()
        watch = browser.Watch(page, served)
        page.goto(served + "diagrams/")
        # The theme renders it after load, into a closed shadow root: read the DOM through DevTools.
        devtools = page.context.new_cdp_session(page)
        drawn: list[str] = []
        for _ in range(200):
            drawn = _mermaid_texts(devtools.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"])
            if drawn:
                break
            page.wait_for_timeout(100)
        found = watch.take()
    assert drawn, "no <svg> inside the mermaid block"
    text = " ".join(drawn)
    for label in ("POST /api/v1/orders", "orders.api.payable", "OrderPlaced"):
        assert label in text
    assert not found, found


def _mermaid_texts(node: dict[str, Any], inside: bool = False) -> list[str]:
    """The text of every <svg> drawn in a ``div.mermaid`` (shadow roots included), from the DevTools DOM."""
    attributes = node.get("attributes", [])
    classes = dict(zip(attributes[::2], attributes[1::2], strict=True)).get("class", "").split()
    inside = inside or (node.get("nodeName") == "DIV" and "mermaid" in classes)
    if inside and node.get("nodeName") == "svg":
        return [" ".join(_texts(node))]
    found = []
    for child in node.get("children", []) + node.get("shadowRoots", []):
        found += _mermaid_texts(child, inside)
    return found


def _texts(node: dict[str, Any]) -> list[str]:
    if node.get("nodeType") == 3:
        return [node.get("nodeValue", "")]
    return [text for child in node.get("children", []) for text in _texts(child)]
