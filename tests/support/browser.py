"""Headless Chromium (Debian's ``chromium``) driven by Playwright: no browser download, the system's
binary through ``executable_path``. Used by the docs-site test and the storefront journeys.

``ECOMMERCE_REQUIRE_BROWSER=1`` (CI) turns a missing chromium into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def executable() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def required() -> bool:
    return os.environ.get("ECOMMERCE_REQUIRE_BROWSER") == "1"


def chromium() -> str:
    """The browser binary; a failure in CI (ECOMMERCE_REQUIRE_BROWSER=1), else a skip, without one."""
    binary = executable()
    if binary is None:
        if required():
            pytest.fail("ECOMMERCE_REQUIRE_BROWSER=1 but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    return binary


@contextmanager
def launch() -> Iterator[Browser]:
    """One headless Chromium for a test (or a module of tests)."""
    binary = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Watch:
    """What went wrong while a page was open: console errors, uncaught exceptions, failed or 4xx/5xx
    requests, and requests leaving ``origin``."""

    def __init__(self, page: Page, origin: str, allow_status: tuple[int, ...] = ()) -> None:
        self.origin = origin.rstrip("/")
        self.allow_status = allow_status
        self.found: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.found.append(f"uncaught: {error}"))
        page.on("request", self._request)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        allowed = any(f"status of {status} " in message.text for status in self.allow_status)
        if message.type in ("error", "assert") and not allowed:
            self.found.append(f"console error: {message.text}")

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.origin, "data:", "blob:", "about:")):
            self.found.append(f"request outside the site: {request.url}")

    def _failed(self, request: Any) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:  # a navigation replacing a page cancels its requests: fine
            self.found.append(f"request failed: {failure} {request.url}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.status not in self.allow_status:
            self.found.append(f"HTTP {response.status}: {response.url}")

    def take(self) -> list[str]:
        found, self.found = self.found, []
        return found


def broken_images(page: Page, settle_ms: float = 15_000) -> list[str]:
    """The images of the page that did not load. A lazy image (``loading="lazy"``, the storefront's product
    pictures) does not hold the page's load event back, so on a busy machine it may still be on its way
    when ``goto`` returns: wait (up to ``settle_ms``) until every image has finished, loaded or broken."""
    with suppress(PlaywrightTimeoutError):
        page.wait_for_function("[...document.images].every(i => i.complete)", timeout=settle_ms)
    result: list[str] = page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'))")
    return result


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of at least the given impact on the page as it is now (the page's context
    must bypass the CSP: the script is injected inline)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"] if v.get("impact") in impacts]


#: What a keyboard user hears for the focused element: its label, its ARIA name, or its own text.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const label = (el.labels && el.labels.length) ? el.labels[0].innerText : null;
  const name = label || el.getAttribute('aria-label') || el.innerText || el.value || '';
  const style = getComputedStyle(el);
  return {name: name.trim(), tag: el.tagName.toLowerCase(),
          visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0};
}"""


def tab_to(page: Page, name: str, limit: int = 80) -> None:
    """Press Tab (only Tab) until the focused element is called ``name`` (or ``name`` then a hint, as in
    "Password (at least 12 characters)"); every element passed on the way
    must show where the focus is (an outline), as a keyboard user needs to see it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:
            continue
        assert focused["visible"], f"the focus on {focused['tag']} {focused['name']!r} is not visible"
        if focused["name"] == name or focused["name"].startswith(name + " "):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {name!r} on {page.url}")
