"""The storefront over plain HTTP (no browser): CSRF, session cookies and their revocation, headers,
friendly error pages, hashed assets with long caching and ETags, the CDN setting, one order per
checkout form, and the module switched off."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest
from sanic import Request

from ecommerce.kernel.pagination import PageRequest
from ecommerce.modules.catalog import products
from ecommerce.modules.orders import api as orders
from tests.support import catalog as make
from tests.support.api import PASSWORD, new_email, register
from tests.support.shop import Shop

HTML = {"accept": "text/html"}


def _token(client: httpx.Client, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found[1]


def _signed_in(shop: Shop, client: httpx.Client | None = None) -> tuple[httpx.Client, dict[str, Any]]:
    client = client or httpx.Client(base_url=shop.server.url, timeout=30)
    user = register(client)
    answer = client.post("/login", data={"csrf": _token(client), "email": user["email"], "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    return client, user


def test_pages_are_html_under_a_strict_csp(shop: Shop) -> None:
    page = shop.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "form-action 'self'" in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "cdn" not in page.text.lower() or "https://" not in page.text  # every asset is the app's own


def test_a_form_without_its_csrf_token_is_refused(shop: Shop) -> None:
    client = shop.client
    token = _token(client)
    for data in ({"email": "a@example.com", "password": "x"}, {"csrf": "forged" * 8, "email": "a@example.com"}):
        refused = client.post("/login", data=data, headers=HTML)
        assert refused.status_code == 403 and "The form expired" in refused.text
    stranger = httpx.Client(base_url=shop.server.url)  # the token without the cookie it belongs to
    assert stranger.post("/login", data={"csrf": token, "email": "a@example.com"}).status_code == 403
    wrong = client.post("/login", data={"csrf": token, "email": "a@example.com", "password": "nope-nope"})
    assert wrong.status_code == 401 and "Log in" in wrong.text  # past the CSRF check: the login's own answer


def test_session_cookies_are_httponly_lax_and_secure_over_https(shop_factory: Any) -> None:
    shop = shop_factory(trusted_proxies=("127.0.0.1",))
    user = register(shop.client)
    plain = httpx.Client(base_url=shop.server.url)
    answer = plain.post("/login", data={"csrf": _token(plain), "email": user["email"], "password": PASSWORD})
    cookies = [c for c in answer.headers.get_list("set-cookie") if c.startswith(("sf_access=", "sf_refresh="))]
    assert len(cookies) == 2
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    refresh = next(c for c in cookies if c.startswith("sf_refresh="))
    assert "max-age=2592000" in refresh.lower()  # the users module's session lifetime (refresh_token_ttl)
    https = httpx.Client(base_url=shop.server.url, headers={"x-forwarded-proto": "https"})
    answer = https.post("/login", data={"csrf": _token(https), "email": user["email"], "password": PASSWORD})
    assert all("Secure" in c for c in answer.headers.get_list("set-cookie"))


def test_logging_out_revokes_the_session_behind_the_cookies(shop: Shop) -> None:
    client, _ = _signed_in(shop)
    assert client.get("/orders").status_code == 200
    kept = dict(client.cookies)
    assert client.post("/logout", data={"csrf": _token(client, "/orders")}).status_code == 303
    replayed = httpx.Client(base_url=shop.server.url, cookies=kept)
    answer = replayed.get("/orders")  # the old access and refresh tokens: both revoked
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_an_expired_access_cookie_is_renewed_with_the_refresh_cookie(shop: Shop) -> None:
    client, _ = _signed_in(shop)
    stale = httpx.Client(base_url=shop.server.url,
                         cookies={"sf_access": "not-a-token", "sf_refresh": client.cookies["sf_refresh"]})
    answer = stale.get("/orders")
    assert answer.status_code == 200
    assert any(c.startswith("sf_access=") for c in answer.headers.get_list("set-cookie"))


def test_errors_are_friendly_pages_and_the_api_keeps_problem_json(app_factory: Any) -> None:
    from tests.support.live_server import LiveServer

    app: Any = app_factory()

    @app.get("/boom")
    async def boom(request: Request) -> None:
        raise RuntimeError("secret internals")

    server = LiveServer(app).start()
    try:
        client = httpx.Client(base_url=server.url)
        missing = client.get("/no-such-page", headers=HTML)
        assert missing.status_code == 404 and "Page not found" in missing.text
        assert missing.headers["content-type"].startswith("text/html")
        assert client.get("/p/999999").status_code == 404  # a storefront route: a page for any client
        failed = client.get("/boom", headers=HTML)
        assert failed.status_code == 500 and "Something went wrong" in failed.text
        assert "secret internals" not in failed.text and "Traceback" not in failed.text
        api = client.get("/api/v1/no-such-route", headers=HTML)
        assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    finally:
        server.stop()


def test_assets_carry_a_content_hash_a_year_of_caching_and_an_etag(shop: Shop) -> None:
    product_id, _ = make.stocked(shop.kernel, 5, name="Hashed Lamp")
    page = shop.client.get(f"/p/{product_id}").text
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert any(u.endswith(".css") for u in urls) and any(u.endswith(".js") for u in urls)
    assert any(u.startswith("/static/img/") for u in urls)
    for url in urls:
        assert re.search(r"\.[0-9a-f]{16}\.\w+$", url), url
        first = shop.client.get(url)
        assert first.status_code == 200, url
        assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
        again = shop.client.get(url, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
    assert shop.client.get("/static/site.0000000000000000.css").status_code == 404
    assert shop.client.get(f"/static/img/{product_id}.0000000000000000.svg").status_code == 404
    picture = shop.client.get(next(u for u in urls if u.startswith("/static/img/")))
    assert picture.headers["content-type"] == "image/svg+xml" and b"Hashed Lamp" in picture.content


def test_a_cdn_serves_the_assets_when_configured(shop_factory: Any) -> None:
    shop = shop_factory(module_settings={"storefront": {"static_url": "https://cdn.example.com/"}})
    page = shop.client.get("/")
    assert re.search(r'href="https://cdn\.example\.com/static/site\.[0-9a-f]{16}\.css"', page.text)
    assert "script-src 'self' https://cdn.example.com;" in page.headers["content-security-policy"]


def test_one_checkout_form_makes_one_order(shop: Shop) -> None:
    product_id, _ = make.stocked(shop.kernel, 5)
    client, user = _signed_in(shop)
    token = _token(client, "/checkout")
    assert client.post("/cart", data={"csrf": token, "product_id": product_id, "quantity": 2}).status_code == 303
    fields = {"csrf": token, "street": "1 Main St", "city": "Berlin", "country": "de"}
    assert client.post("/addresses", data=fields).status_code == 303
    form = client.get("/checkout").text
    key = re.search(r'name="key" value="([^"]+)"', form)[1]  # type: ignore[index]
    address = re.search(r'name="address_id" value="(\d+)"', form)[1]  # type: ignore[index]
    sent = [client.post("/checkout", data={"csrf": token, "key": key, "address_id": address}) for _ in range(2)]
    assert [s.status_code for s in sent] == [303, 303]
    assert sent[0].headers["location"] == sent[1].headers["location"]
    placed = shop.kernel.runner.call(orders.orders_of, user["id"], PageRequest(10))
    assert len(placed.items) == 1 and placed.items[0]["items"][0]["quantity"] == 2


def test_a_card_number_never_reaches_the_logs_or_the_page(shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    product_id, _ = make.stocked(shop.kernel, 5)
    client, _ = _signed_in(shop)
    token = _token(client, "/checkout")
    client.post("/cart", data={"csrf": token, "product_id": product_id})
    client.post("/addresses", data={"csrf": token, "street": "1 Main St", "city": "Berlin", "country": "DE"})
    form = client.get("/checkout").text
    key = re.search(r'name="key" value="([^"]+)"', form)[1]  # type: ignore[index]
    address = re.search(r'name="address_id" value="(\d+)"', form)[1]  # type: ignore[index]
    pay_url = client.post("/checkout", data={"csrf": token, "key": key, "address_id": address}).headers["location"]
    with caplog.at_level(logging.DEBUG):
        declined = client.post(pay_url, data={"csrf": token, "card": "new", "number": "4000000000000002",
                                              "exp_month": "12", "exp_year": "2031", "cvc": "123"})
    assert declined.status_code == 402 and "declined" in declined.text
    assert "4000000000000002" not in declined.text and "4000000000000002" not in caplog.text


def test_the_storefront_can_be_disabled(app_factory: Any) -> None:
    from tests.support.live_server import LiveServer

    server = LiveServer(app_factory(disabled_modules=("storefront",))).start()
    try:
        client = httpx.Client(base_url=server.url)
        answer = client.get("/")
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
        assert client.get("/api/v1/products").status_code == 200
    finally:
        server.stop()


def test_signing_up_twice_with_one_email_says_so(shop: Shop) -> None:
    email = new_email()
    client = httpx.Client(base_url=shop.server.url)
    token = _token(client, "/signup")
    assert client.post("/signup", data={"csrf": token, "email": email, "password": PASSWORD}).status_code == 303
    other = httpx.Client(base_url=shop.server.url)
    again = other.post("/signup", data={"csrf": _token(other, "/signup"), "email": email, "password": PASSWORD})
    assert again.status_code == 409 and "Create your account" in again.text


def test_visitors_share_one_kept_product_page_without_a_cookie(shop: Shop) -> None:
    """A visitor's product page is rendered once and kept: the same bytes for every visitor, no CSRF cookie
    (nothing on it posts; "Add to cart" leads to the login and back), a change of the product shows at
    once, and a shopper who is signed in gets a page of their own with a working cart form."""
    pid, _ = make.stocked(shop.kernel, 5, name="Kept Lamp", price=1500, description="A lamp <b>kept</b>")
    first, second = (httpx.Client(base_url=shop.server.url, timeout=30) for _ in range(2))
    for _ in range(2):  # the second round comes from the kept page
        pages = [client.get(f"/p/{pid}") for client in (first, second)]
    assert len(shop.server.app.ctx.visitor_pages) == 1
    assert pages[0].content == pages[1].content and pages[0].status_code == 200
    assert "set-cookie" not in pages[0].headers and not first.cookies and 'name="csrf"' not in pages[0].text
    assert pages[0].headers["content-type"].startswith("text/html") and pages[0].headers["cache-control"] == "no-store"
    assert "$15.00" in pages[0].text and "A lamp &lt;b&gt;kept&lt;/b&gt;" in pages[0].text
    buy = first.get("/login", params={"next": f"/p/{pid}"})  # what the visitor's "Add to cart" asks for
    assert buy.status_code == 200 and f'name="next" value="/p/{pid}"' in buy.text and first.cookies.get("sf_csrf")

    shop.kernel.runner.call(products.update, pid, {"price": 2500})
    assert "$25.00" in second.get(f"/p/{pid}").text

    client, _ = _signed_in(shop)
    mine = client.get(f"/p/{pid}")
    assert "Log out" in mine.text and "$25.00" in mine.text and "Log out" not in second.get(f"/p/{pid}").text
    token = re.search(r'name="csrf" value="([^"]+)"', mine.text)
    assert token is not None
    added = client.post("/cart", data={"csrf": token[1], "product_id": str(pid), "quantity": "2"})
    assert added.status_code == 303 and "$50.00" in client.get("/cart").text
