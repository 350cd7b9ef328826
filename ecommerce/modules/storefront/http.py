"""The storefront's routes: HTML pages rendered with Jinja2 through Sanic Extensions (``sanic_ext.render``),
their forms, the htmx fragments, and the hashed static files. The only file of the module that knows Sanic.

Sessions are the users module's own: logging in opens the same session ``POST /auth/login`` does, and
its access and refresh tokens live in HttpOnly cookies; an expired access token is renewed with the
refresh token (rotation and reuse detection included); logging out revokes the session like
``POST /auth/logout``. Every POST carries the CSRF token (``csrf.py``).
"""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import HTTPResponse, Request, Sanic, html, raw, redirect
from sanic_ext import openapi, render

from ecommerce.kernel.errors import AppError, Forbidden, NotFound, Unauthorized
from ecommerce.kernel.http import run_sync, strict_throttle
from ecommerce.kernel.http.blueprint import Blueprint
from ecommerce.kernel.http.checks import check_first
from ecommerce.kernel.http.client_ip import forwarded_https, parse_networks
from ecommerce.kernel.http.validation import query_args
from ecommerce.kernel.pagination import PageRequest
from ecommerce.kernel.security.tokens import Principal
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.notifications import api as notifications
from ecommerce.modules.orders import api as orders
from ecommerce.modules.payments import api as payments
from ecommerce.modules.recommendations import api as recommendations
from ecommerce.modules.search import api as search
from ecommerce.modules.storefront import csrf, images, pages, settings
from ecommerce.modules.storefront.assets import CACHE_CONTROL, Assets
from ecommerce.modules.storefront.visitor_pages import VisitorPages
from ecommerce.modules.users import api as users

ACCESS, REFRESH = "sf_access", "sf_refresh"
IMAGE_NAME = re.compile(r"([0-9]{1,18})\.([0-9a-f]{16})\.svg")
TEMPLATES = Path(__file__).parent / "templates"
#: Pages are personal (a session, a CSRF token): never stored by a browser or a proxy.
NO_STORE = "no-store"
#: Only this app's own files (or the CDN in ECOMMERCE_STATIC_URL); no inline script or style.
CSP = ("default-src 'none'; script-src 'self'{cdn}; style-src 'self'{cdn}; img-src 'self'{cdn}; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
STATUS_LABELS = {"pending_payment": "Awaiting payment", "paid": "Paid", "fulfilled": "Packed", "shipped": "Shipped",
                 "delivered": "Delivered", "cancelled": "Cancelled", "expired": "Expired", "refunded": "Refunded"}
CURRENCY = {"USD": "$", "EUR": "€", "GBP": "£"}
#: the payment simulator's test cards, shown on the payment page
TEST_CARDS = (("4242 4242 4242 4242", "approved"), ("4000 0000 0000 0002", "declined"),
              ("4000 0000 0000 9995", "declined: insufficient funds"))
ERROR_TITLES = {400: "That did not work", 401: "Please log in", 403: "Not allowed", 404: "Page not found",
                409: "That cannot be done now", 429: "Slow down a little", 500: "Something went wrong"}


def money(amount: int | None, currency: str = "USD") -> str:
    value = (amount or 0) / 100
    symbol = CURRENCY.get(currency)
    return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"


@functools.lru_cache(maxsize=16)
def _environment(static_url: str, asynchronous: bool = True) -> tuple[Environment, Assets]:
    """Pages render asynchronously (sanic-ext's ``render``); error pages synchronously (an error handler)."""
    assets = Assets(static_url)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      enable_async=asynchronous)
    env.globals.update(asset=assets.url, status_label=lambda s: STATUS_LABELS.get(s, s),
                       image=lambda p: _image_url(assets, p), test_cards=TEST_CARDS)
    env.filters["money"] = money
    return env, assets


def warm_templates(static_url: str) -> None:
    """Compile every template once, at start-up, before any request: the first page is not slower than the
    rest, and no template parses Python (Jinja's lexer uses ``ast``) while pages are served, where CPython
    3.11's ``ast`` is not re-entrant ("SystemError: AST constructor recursion depth mismatch")."""
    for asynchronous in (True, False):
        env, _ = _environment(static_url, asynchronous)
        for name in env.list_templates(extensions=["html"]):
            env.get_template(name)


def _image_url(assets: Assets, product: dict[str, Any]) -> str:
    body = images.svg(product["name"], product.get("category"))
    return assets.image_url(product["id"], images.digest(body))


def _env(request: Request) -> tuple[Environment, Assets]:
    return _environment(settings.static_url())


def _enabled(request: Request, name: str) -> bool:
    """Hosted here, or by another service of the layout (its facade calls go there)."""
    kernel = request.app.ctx.kernel
    return name in kernel.registry or name in kernel.settings.remote_modules


def _need(request: Request, name: str) -> None:
    if not _enabled(request, name):
        raise NotFound("This part of the shop is not enabled.")


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> Any:
    return parse_networks(proxies)


def _https(request: Request) -> bool:
    return request.scheme == "https" or forwarded_https(request, _networks(request.app.ctx.settings.trusted_proxies))


# --- sessions ------------------------------------------------------------------------------------------
async def _principal_of(request: Request, token: str) -> Principal:
    kernel = request.app.ctx.kernel
    remembered: Principal | None = kernel.principals.get(token)
    return remembered if remembered is not None else await run_sync(kernel.authenticate, token)


async def current(request: Request) -> Principal | None:
    """The shopper of this request: the access cookie's session, renewed with the refresh cookie once
    the access token has expired; None for a visitor (or a revoked session: its cookies are dropped)."""
    if hasattr(request.ctx, "shopper"):
        return request.ctx.shopper
    found: Principal | None = None
    token, refresh_token = request.cookies.get(ACCESS), request.cookies.get(REFRESH)
    if token:
        try:
            found = await _principal_of(request, token)
        except Unauthorized:
            found = None
    if found is None and refresh_token:
        try:
            pair = await run_sync(users.refresh, refresh_token)
            request.ctx.new_pair = pair
            found = await _principal_of(request, pair.access_token)
        except Unauthorized:
            request.ctx.end_session = True
    elif found is None and token:
        request.ctx.end_session = True
    request.ctx.shopper = found
    return found


def shopper(request: Request) -> Principal:
    found: Principal | None = getattr(request.ctx, "shopper", None)
    if found is None:
        raise Unauthorized("Log in to continue.")
    return found


async def _shopper(request: Request) -> HTTPResponse | None:
    if await current(request) is None:
        target = request.path if request.method == "GET" else "/"
        return redirect(f"/login?next={target}", status=303)
    return None


async def _staff(request: Request) -> HTTPResponse | None:
    who = await current(request)
    if who is None:
        return redirect(f"/login?next={request.path}", status=303)
    if not who.is_admin:
        raise Forbidden("This page is for the shop's staff.")
    return None


#: A page for shoppers: a visitor is sent to the login page (and back here afterwards).
signed_in = check_first(_shopper)
#: A page for the shop's staff: a visitor is sent to the login page, a customer gets a 403.
admins = check_first(_staff)


def _set_session(request: Request, response: HTTPResponse, pair: users.TokenPair) -> None:
    secure = _https(request)
    response.add_cookie(ACCESS, pair.access_token, httponly=True, secure=secure, samesite="Lax", path="/")
    response.add_cookie(REFRESH, pair.refresh_token, httponly=True, secure=secure, samesite="Lax", path="/",
                        max_age=pair.session_ttl)


def _end_session(response: HTTPResponse) -> None:
    for name in (ACCESS, REFRESH):
        response.delete_cookie(name, path="/")


# --- rendering -----------------------------------------------------------------------------------------
def _form(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in (request.form or {}).items() if v}


def _order_form(request: Request, field: str) -> tuple[dict[str, str], int]:
    """A form that orders something (add to cart, checkout) and the id it names in ``field``: 404 while the
    orders module is off, 400 when the id is missing or not a positive number."""
    _need(request, "orders")
    form = _form(request)
    return form, pages.parse_id(form.get(field), field)


def check_csrf(request: Request) -> None:
    sent = request.headers.get(csrf.HEADER) or (request.form.get(csrf.FIELD) if request.form else None)
    if not csrf.matches(request.cookies.get(csrf.COOKIE), sent):
        raise Forbidden("The form expired or came from another site; reload the page and try again.")


async def _form_token(request: Request) -> None:
    check_csrf(request)


#: A form handler: the CSRF token must match before anything else happens.
posted = check_first(_form_token)


async def _unread(request: Request, who: Principal | None) -> int:
    if who is None or not _enabled(request, "notifications"):
        return 0
    return await run_sync(notifications.unread_count, who.user_id)


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one (set as the cookie with the answer). Issued only
    for a page with a form: a visitor reading product pages gets no cookie (and the same kept page)."""
    token = request.cookies.get(csrf.COOKIE)
    if csrf.well_formed(token):
        return str(token)
    issued: str | None = getattr(request.ctx, "new_csrf", None)
    if issued is None:
        issued = request.ctx.new_csrf = csrf.new_token()
    return issued


async def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTTPResponse:
    who = await current(request)
    env, _ = _env(request)
    base = {"user": who, "csrf_token": csrf_token(request), "unread": await _unread(request, who),
            "modules": request.app.ctx.kernel.registry.names(), "flash": query_args(request).get("done")}
    return await render(template, status=status, app=request.app, environment=env, context={**base, **context})


def _visitor(request: Request) -> bool:
    """No session cookie and no notice to show: the page is the same for every such visitor but the token."""
    return not (request.cookies.get(ACCESS) or request.cookies.get(REFRESH) or request.query_string)


async def kept_page(request: Request, template: str, key: tuple[Any, ...], sources: tuple[object, ...] | None,
                    context: Callable[[], dict[str, Any]]) -> HTTPResponse:
    """A visitor's page from :class:`VisitorPages`, rendered on a miss (and kept when it was built from
    cached ``sources``). A visitor's page has no form that posts (its "Add to cart" leads to the login
    first), so it needs no CSRF token: the same bytes for every visitor, and no cookie."""
    kept: VisitorPages = request.app.ctx.visitor_pages
    body = None if sources is None else kept.get(key, sources)
    if body is None:
        env, _ = _env(request)
        base = {"user": None, "csrf_token": "", "unread": 0, "modules": request.app.ctx.kernel.registry.names(),
                "flash": None, "request": request}
        body = (await env.get_template(template).render_async({**base, **context()})).encode()
        if sources is not None:
            kept.put(key, sources, body)
    return raw(body, content_type="text/html; charset=utf-8")


def error_page(request: Request, status: int, detail: str) -> HTTPResponse:
    """The friendly page for an error (no traceback, no internals: the detail is the problem's own)."""
    env, _ = _environment(settings.static_url(), False)
    shown = detail if status < 500 else "We could not finish that. Please try again in a moment."
    body = env.get_template("error.html").render(
        status=status, title=ERROR_TITLES.get(status, "That did not work"), detail=shown, user=None,
        csrf_token="", unread=0, modules=[], flash=None,
        request_id=getattr(request.ctx, "request_id", None), request=request)
    response = html(body, status=status)
    _headers(request, response)
    return response


def _headers(request: Request, response: HTTPResponse) -> None:
    base = settings.static_url().rstrip("/")
    response.headers.setdefault("Content-Security-Policy", CSP.format(cdn=f" {base}" if base else ""))
    response.headers.setdefault("Cache-Control", NO_STORE)


def wants_page(request: Request) -> bool:
    """Errors of the storefront's routes, and of any other page a browser asks for, get a page; the API
    (and the system routes) keep their problem+json."""
    if request.path.startswith(("/api/", "/docs", "/problems/", "/healthz", "/readyz", "/metrics")):
        return False
    name = request.route.name if request.route is not None else ""
    return ".storefront." in f".{name}" or "text/html" in request.headers.get("accept", "")


def _static(asset_body: bytes, etag: str, content_type: str, request: Request) -> HTTPResponse:
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return HTTPResponse(status=304, headers=headers)
    return raw(asset_body, content_type=content_type, headers=headers)


# --- the blueprint -------------------------------------------------------------------------------------
def build_blueprint() -> Blueprint:
    bp = Blueprint("storefront")

    @bp.before_server_start
    async def install_error_pages(app: Sanic) -> None:
        app.error_handler.pages = (wants_page, error_page)  # type: ignore[attr-defined]
        app.ctx.visitor_pages = VisitorPages()
        warm_templates(settings.static_url())

    @bp.on_response
    async def cookies_and_headers(request: Request, response: HTTPResponse) -> None:
        issued = getattr(request.ctx, "new_csrf", None)
        if issued is not None:
            response.add_cookie(csrf.COOKIE, issued, httponly=True, secure=_https(request), samesite="Lax", path="/")
        pair = getattr(request.ctx, "new_pair", None)
        if pair is not None:
            _set_session(request, response, pair)
        elif getattr(request.ctx, "end_session", False):
            _end_session(response)
        _headers(request, response)

    # --- assets ---------------------------------------------------------------------------------------
    @bp.get("/static/<name:str>")
    async def static(request: Request, name: str) -> HTTPResponse:
        asset = _env(request)[1].find(name)
        if asset is None:
            raise NotFound("No such file.")
        return _static(asset.body, asset.etag, asset.content_type, request)

    @bp.get("/static/img/<name:str>")
    async def product_image(request: Request, name: str) -> HTTPResponse:
        """``<product id>.<digest>.svg``: the picture is drawn again from the product's name and category."""
        match = IMAGE_NAME.fullmatch(name)
        if match is None:
            raise NotFound("No such picture.")
        found = await run_sync(catalog.product, int(match[1]))
        body = images.svg(found["name"], found.get("category"))
        if images.digest(body) != match[2]:  # renamed since the page was made: not this URL's picture
            raise NotFound("No such picture.")
        return _static(body, f'"{match[2]}"', "image/svg+xml", request)

    # --- browsing -------------------------------------------------------------------------------------
    @bp.get("/")
    async def home(request: Request) -> HTTPResponse:
        recs = recommendations if _enabled(request, "recommendations") else None
        return await page(request, "home.html", await run_sync(pages.home, recs))

    @bp.get("/products")
    async def listing(request: Request) -> HTTPResponse:
        filters = pages.parse_filters(query_args(request))
        return await page(request, "listing.html", await run_sync(pages.listing, filters))

    @bp.get("/c/<slug:str>")
    async def category(request: Request, slug: str) -> HTTPResponse:
        filters = pages.parse_filters({**query_args(request), "category": slug})
        return await page(request, "listing.html", await run_sync(pages.listing, filters))

    @bp.get("/find")
    async def find(request: Request) -> HTTPResponse:
        _need(request, "search")
        args = query_args(request)
        context = await run_sync(pages.search, search, (args.get("q") or "")[:200], args.get("cursor"))
        return await page(request, "search.html", context)

    @bp.get("/p/<product_id:int>")
    async def product(request: Request, product_id: int) -> HTTPResponse:
        # A cache hit is served on the event loop, like the JSON detail's: no thread hop; and a visitor's
        # page is rendered once while the product and the categories stay the same (visitor_pages.py).
        cached = catalog.peek_product_encoded(product_id)
        if cached is None:
            context = await run_sync(pages.product, product_id)
            if _visitor(request):
                return await kept_page(request, "product.html", ("product", product_id), None, lambda: context)
            return await page(request, "product.html", context)
        if _visitor(request):
            return await kept_page(request, "product.html", ("product", product_id), cached,
                                   lambda: pages.decoded_product(*cached))
        return await page(request, "product.html", pages.decoded_product(*cached))

    @bp.get("/p/<product_id:int>/together")
    async def together(request: Request, product_id: int) -> HTTPResponse:
        """The "bought together" section: a fragment for htmx, a page of its own without JavaScript."""
        _need(request, "recommendations")
        context = await run_sync(pages.together, product_id, recommendations)
        template = "_together.html" if request.headers.get("hx-request") else "together.html"
        return await page(request, template, context)

    # --- accounts -------------------------------------------------------------------------------------
    def _next(value: str | None) -> str:
        return value if value and value.startswith("/") and not value.startswith("//") else "/"

    @bp.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        return await page(request, "login.html", {"next": _next(query_args(request).get("next")), "email": ""})

    async def _open_session(request: Request, email: str, password: str, target: str) -> HTTPResponse:
        pair = await run_sync(users.login, email, password, ip=request.ctx.client_ip,
                              user_agent=request.headers.get("user-agent"))
        response = redirect(target, status=303)
        _set_session(request, response, pair)
        return response

    @bp.post("/login")
    @posted
    @strict_throttle
    async def login(request: Request) -> HTTPResponse:
        form = _form(request)
        target = _next(form.get("next"))
        try:
            return await _open_session(request, form.get("email", ""), form.get("password", ""), target)
        except Unauthorized as exc:
            context = {"next": target, "email": form.get("email", ""), "error": exc.detail}
            return await page(request, "login.html", context, status=401)

    @bp.get("/signup")
    async def signup_form(request: Request) -> HTTPResponse:
        return await page(request, "signup.html", {"email": ""})

    @bp.post("/signup")
    @posted
    @strict_throttle
    async def signup(request: Request) -> HTTPResponse:
        form = _form(request)
        email, password = form.get("email", ""), form.get("password", "")
        try:
            await run_sync(users.register, email, password, None)
        except AppError as exc:
            return await page(request, "signup.html", {"email": email, "error": exc.detail}, status=exc.status)
        return await _open_session(request, email, password, "/?done=welcome")

    @bp.post("/logout")
    @posted
    async def logout(request: Request) -> HTTPResponse:
        who = await current(request)
        if who is not None:
            await run_sync(users.logout, who)
        response = redirect("/", status=303)
        _end_session(response)
        return response

    # --- cart -----------------------------------------------------------------------------------------
    async def _cart_context(user_id: int) -> dict[str, Any]:
        return {"cart": await run_sync(orders.cart_view, user_id)}

    @bp.get("/cart")
    @signed_in
    async def cart(request: Request) -> HTTPResponse:
        _need(request, "orders")
        return await page(request, "cart.html", await _cart_context(shopper(request).user_id))

    @bp.post("/cart")
    @posted
    @signed_in
    async def add_to_cart(request: Request) -> HTTPResponse:
        form, product_id = _order_form(request, "product_id")
        quantity = pages.parse_quantity(form.get("quantity") or "1") or 1
        await run_sync(orders.cart_add, shopper(request).user_id, product_id, quantity)
        return redirect("/cart?done=added", status=303)

    @bp.post("/cart/<product_id:int>")
    @posted
    @signed_in
    async def set_quantity(request: Request, product_id: int) -> HTTPResponse:
        """A quantity change: htmx swaps the cart's table in place; without JavaScript, back to the cart."""
        _need(request, "orders")
        quantity = pages.parse_quantity(_form(request).get("quantity"))
        await run_sync(orders.cart_set, shopper(request).user_id, product_id, quantity)
        if request.headers.get("hx-request"):
            return await page(request, "_cart_table.html", await _cart_context(shopper(request).user_id))
        return redirect("/cart", status=303)

    # --- checkout and payment -------------------------------------------------------------------------
    @bp.get("/checkout")
    @signed_in
    async def checkout_form(request: Request) -> HTTPResponse:
        _need(request, "orders")
        user_id = shopper(request).user_id
        context = {**await _cart_context(user_id), "addresses": await run_sync(pages.addresses, user_id),
                   "key": str(uuid.uuid4())}
        return await page(request, "checkout.html", context)

    @bp.post("/addresses")
    @posted
    @signed_in
    async def add_address(request: Request) -> HTTPResponse:
        fields = pages.parse_address(_form(request))
        await run_sync(users.add_address, shopper(request).user_id, fields)
        return redirect("/checkout?done=address", status=303)

    @bp.post("/checkout")
    @posted
    @signed_in
    async def place_order(request: Request) -> HTTPResponse:
        """One order per form (its idempotency key): a double click waits for the first and shows its order."""
        form, address_id = _order_form(request, "address_id")
        key = (form.get("key") or "")[:255]
        if len(key) < 8:
            raise NotFound("This checkout form is not valid; open the checkout again.")
        user_id = shopper(request).user_id
        for _ in range(100):  # the first submit of this form is still placing the order: wait for it
            order_id = await run_sync(orders.checkout, user_id, address_id, key)
            if order_id is not None:
                return redirect(f"/orders/{order_id}/pay", status=303)
            await asyncio.sleep(0.1)
        raise AppError("The order is taking long; look in your orders in a moment.")

    async def _pay_context(request: Request, order_id: int) -> dict[str, Any]:
        user_id = shopper(request).user_id
        return {"order": await run_sync(orders.order, user_id, order_id),
                "cards": await run_sync(payments.cards, user_id)}

    @bp.get("/orders/<order_id:int>/pay")
    @signed_in
    async def pay_form(request: Request, order_id: int) -> HTTPResponse:
        _need(request, "payments")
        return await page(request, "pay.html", await _pay_context(request, order_id))

    @bp.post("/orders/<order_id:int>/pay")
    @posted
    @signed_in
    async def pay(request: Request, order_id: int) -> HTTPResponse:
        """Save a new card (its number goes to the vault and nowhere else) or use a saved one, then charge."""
        _need(request, "payments")
        form = _form(request)
        user_id = shopper(request).user_id
        try:
            token = form.get("card") or ""
            if not token or token == "new":
                saved = await run_sync(payments.save_card, user_id, form.get("number", ""),
                                       _int(form.get("exp_month")), _int(form.get("exp_year")), form.get("cvc", ""),
                                       form.get("holder") or None)
                token = saved["id"]
            payment = await run_sync(payments.pay, user_id, order_id, token, form.get("cvc") or None)
        except AppError as exc:
            if exc.status >= 500:
                raise
            context = {**await _pay_context(request, order_id), "error": exc.detail}
            return await page(request, "pay.html", context, status=exc.status)
        if payment["status"] == "failed":
            reason = payment.get("failure_message") or "The card was declined."
            context = {**await _pay_context(request, order_id), "error": f"{reason} Try another card."}
            return await page(request, "pay.html", context, status=402)
        return redirect(f"/orders/{order_id}?done=paid", status=303)

    # --- orders ---------------------------------------------------------------------------------------
    @bp.get("/orders")
    @signed_in
    async def order_list(request: Request) -> HTTPResponse:
        _need(request, "orders")
        cursor = query_args(request).get("cursor")
        found = await run_sync(orders.orders_of, shopper(request).user_id, PageRequest.parse("20", cursor))
        return await page(request, "orders.html", {"orders": found.items, "next_cursor": found.next_cursor})

    @bp.get("/orders/<order_id:int>")
    @signed_in
    async def order_page(request: Request, order_id: int) -> HTTPResponse:
        _need(request, "orders")
        found = await run_sync(orders.order, shopper(request).user_id, order_id)
        return await page(request, "order.html", {"order": found, "path": orders.HAPPY_PATH,
                                                  "can_cancel": orders.customer_can_cancel(found["order_status"])})

    @bp.post("/orders/<order_id:int>/cancel")
    @posted
    @signed_in
    async def cancel(request: Request, order_id: int) -> HTTPResponse:
        _need(request, "orders")
        await run_sync(orders.cancel, shopper(request).user_id, order_id)
        return redirect(f"/orders/{order_id}?done=cancelled", status=303)

    @bp.get("/notifications")
    @signed_in
    async def notification_list(request: Request) -> HTTPResponse:
        _need(request, "notifications")
        found = await run_sync(notifications.recent, shopper(request).user_id, 50)
        return await page(request, "notifications.html", {"notifications": found})

    # --- admin ----------------------------------------------------------------------------------------
    @bp.get("/admin/orders")
    @admins
    async def admin_orders(request: Request) -> HTTPResponse:
        _need(request, "orders")
        args = query_args(request)
        status = args.get("status") or None
        if status is not None and status not in STATUS_LABELS:
            status = None
        found = await run_sync(orders.all_orders, PageRequest.parse("50", args.get("cursor")), status)
        rows = [{**o, "moves": orders.admin_moves(o["order_status"])} for o in found.items]
        return await page(request, "admin_orders.html", {"orders": rows, "next_cursor": found.next_cursor,
                                                         "status": status, "statuses": STATUS_LABELS})

    @bp.post("/admin/orders/<order_id:int>")
    @posted
    @admins
    async def admin_move(request: Request, order_id: int) -> HTTPResponse:
        _need(request, "orders")
        await run_sync(orders.admin_move, order_id, _form(request).get("to", ""))
        return redirect("/admin/orders?done=moved", status=303)

    @bp.get("/admin/stock")
    @admins
    async def admin_stock(request: Request) -> HTTPResponse:
        cursor = query_args(request).get("cursor")

        def load() -> dict[str, Any]:
            listed = catalog.listing(PageRequest.parse("20", cursor), sort="name")
            return {"warehouses": catalog.warehouses(), "next_cursor": listed.next_cursor,
                    "products": [catalog.product(p["id"]) for p in listed.items]}

        return await page(request, "admin_stock.html", await run_sync(load))

    @bp.post("/admin/stock")
    @posted
    @admins
    async def admin_set_stock(request: Request) -> HTTPResponse:
        form = _form(request)
        await run_sync(catalog.set_stock, pages.parse_id(form.get("warehouse_id"), "warehouse_id"),
                       pages.parse_id(form.get("product_id"), "product_id"), _int(form.get("quantity")))
        return redirect("/admin/stock?done=stock", status=303)

    for route in bp._future_routes:  # pages, not API operations: out of the OpenAPI document
        openapi.exclude()(route.handler)
    return bp


def _int(value: str | None) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return -1  # the use case refuses it with its own clear message
