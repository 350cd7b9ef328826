"""The drawings of the docs site are readable: every image opens full size (mkdocs-glightbox, its script
and stylesheet served by the site itself) and the checkout sequence diagram really renders, in a real
browser, from the site's own copy of Mermaid (no CDN)."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import browser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


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
        page.goto(served + "/diagrams/")
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
