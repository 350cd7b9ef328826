"""The documentation site builds in strict mode (no broken link, anchor or nav entry), its main pages
open in a real browser without console errors, broken images or broken links, and a reader can answer
the questions the site exists for."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import browser
from tests.support.static_site import DOCS_SITE, serve

ROOT = Path(__file__).resolve().parents[2]
#: One build of the site for the whole run (``tests/architecture/conftest.py``).
pytestmark = pytest.mark.xdist_group(DOCS_SITE)
#: The pages a newcomer opens first, and one of each generated kind.
MAIN_PAGES = ("", "getting-started/", "architecture/", "diagrams/", "events/", "scaling/", "modules/",
              "modules/orders/", "modules/payments/", "security/", "reference/http-api/",
              "reference/python-api/", "operations/", "configuration/", "decisions/",
              "adr/0002-modular-monolith-for-launch/", "performance/", "contributing/")


def test_mkdocs_builds_strict(site: Path) -> None:
    assert (site / "index.html").exists()
    for page in MAIN_PAGES:
        assert (site / page / "index.html").exists(), page


def _text(site: Path, page: str) -> str:
    html = (site / page / "index.html").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_reader_can_answer_the_questions_from_the_site(site: Path) -> None:
    modules = _text(site, "modules/")
    assert re.search(r"payment payments", modules), "which module owns the payment table"
    orders = _text(site, "modules/orders/")
    consumed = orders[orders.rindex("Events consumed"):orders.rindex("Facade (")]
    for event in ("payments.PaymentSucceeded.v1", "payments.PaymentFailed.v1"):
        assert event in consumed, "which events the orders module consumes"
    monolith = _text(site, "adr/0002-modular-monolith-for-launch/")
    assert "three-month deadline" in monolith and "small team" in monolith, "why a monolith"
    strangler = _text(site, "adr/0003-strangler-fig-migration-path/")
    assert "How a module is carved out" in strangler, "how to carve out a module"
    assert "ECOMMERCE_RELAY_BATCH_SIZE" in _text(site, "operations/")
    assert "POST /api/v1/orders" in _text(site, "reference/http-api/")
    assert "wished_count" in _text(site, "contributing/") or "Wishlist" in _text(site, "contributing/")


def test_new_modules_records_and_performance_pages_join_the_nav(tmp_path: Path) -> None:
    """Nobody has to edit mkdocs.yml when a module, an ADR or a benchmark page lands."""
    from ecommerce.devtools import adr
    from ecommerce.devtools.docsite import hooks
    from ecommerce.devtools.drawings.facts import collect

    (tmp_path / "performance").mkdir()
    (tmp_path / "performance" / "http.md").write_text("# HTTP performance\n")
    nav: list[object] = [{"Home": "index.md"}, {"Modules": [{"Users & auth": "modules/users.md"}]},
                         {"Reference": [{"SQL": "performance/sql.md"}]}, {"Decisions": ["decisions.md"]}]
    hooks.on_config({"nav": nav, "docs_dir": str(tmp_path)})  # type: ignore[arg-type]
    listed = hooks._listed(nav)
    assert {f"modules/{name}.md" for name in collect().modules} <= listed
    assert {f"adr/{record.filename}" for record in adr.records()} <= listed
    assert "performance/http.md" in listed
    flat = repr(nav)
    assert flat.count("modules/users.md") == 1 and flat.count("performance/sql.md") == 1


def test_the_browser_check_catches_a_broken_page(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<html><head><title>t</title></head><body><img src="gone.png">'
                                         '<script>console.error("boom")</script>'
                                         '<script src="https://cdn.invalid/x.js"></script></body></html>')
    server = serve(tmp_path)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with browser.launch() as chrome:
            page = chrome.new_page()
            watch = browser.Watch(page, base)
            page.goto(base + "/", wait_until="load")
            page.wait_for_timeout(150)  # late console messages and requests
            found = " | ".join(watch.take())
            broken = browser.broken_images(page)
    finally:
        server.shutdown()
        server.server_close()
    assert "console error: boom" in found
    assert f"HTTP 404: {base}/gone.png" in found
    assert "request outside the site: https://cdn.invalid/x.js" in found
    assert broken == ["gone.png"]


def test_main_pages_open_cleanly_in_a_browser(served: str) -> None:
    found: list[str] = []
    links: set[str] = set()
    with browser.launch() as chrome:
        page = chrome.new_page()
        watch = browser.Watch(page, served)
        for name in MAIN_PAGES:
            page.goto(served + name, wait_until="load")
            page.wait_for_timeout(150)
            found += [f"{name or '/'}: {p}" for p in watch.take()]
            found += [f"{name or '/'}: broken image {src}" for src in browser.broken_images(page)]
            assert page.title(), name
            hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
            links |= {h.split("#")[0] for h in hrefs if h.startswith(served)}
    for link in sorted(links):
        try:
            with urllib.request.urlopen(link, timeout=10) as answer:
                assert answer.status == 200
        except urllib.error.HTTPError as exc:
            found.append(f"broken link {link}: {exc.code}")
    assert not found, "\n".join(found)
    assert len(links) > 40  # the nav reaches every page
