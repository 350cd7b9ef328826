"""The tour's steps, in the order a customer lives them. Each step prints its calls and one short answer,
and checks what it needs to be true, so the demo doubles as a smoke test of a running deployment."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ecommerce.demo.client import Client, DemoError

T = TypeVar("T")
API = "/api/v1"
CARD = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2035, "cvc": "123",
        "holder_name": "Demo Customer"}
ADDRESS = {"street": "1 Demo Street", "city": "Springfield", "state": "IL", "postal_code": "62701",
           "country": "US"}


def money(minor: int, currency: str | None) -> str:
    return f"{minor / 100:,.2f} {currency or ''}".strip()


@dataclass
class Tour:
    """State carried from one step to the next (who we are, what we bought)."""

    client: Client
    out: Callable[[str], None] = print
    wait: float = 30.0
    email: str = field(default_factory=lambda: f"demo-{uuid.uuid4().hex[:10]}@example.com")
    products: list[dict[str, Any]] = field(default_factory=list)
    order: dict[str, Any] = field(default_factory=dict)
    step_no: int = 0

    def step(self, title: str) -> None:
        self.step_no += 1
        self.out(f"\n{self.step_no}. {title}")

    def say(self, text: str) -> None:
        self.out(f"     {text}")

    def eventually(self, probe: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
        """Asynchronous effects (events through the outbox relay) arrive a moment later: poll quietly."""
        deadline = time.monotonic() + self.wait
        while True:
            value = probe()
            if done(value):
                return value
            if time.monotonic() > deadline:
                raise DemoError(f"{what} did not happen within {self.wait:.0f} s (is the event relay running?)")
            time.sleep(0.25)

    # -- the steps ---------------------------------------------------------------------------------

    def register(self) -> None:
        self.step("Register a customer and sign in")
        password = f"demo-{secrets.token_urlsafe(12)}"
        user = self.client.post(f"{API}/auth/register", {"email": self.email, "password": password})
        self.say(f"registered {user['email']} (user #{user['id']})")
        tokens = self.client.post(f"{API}/auth/login", {"email": self.email, "password": password})
        self.client.token = tokens["access_token"]
        self.say(f"signed in: a {tokens.get('token_type', 'bearer')} access token for {tokens.get('expires_in', '?')} s"
                 " and a rotating refresh token")

    def browse(self) -> None:
        self.step("Browse the catalog")
        categories = self.client.get(f"{API}/categories")
        listed = categories.get("items", categories) if isinstance(categories, dict) else categories
        self.say(f"{len(listed)} categories: {', '.join(c['name'] for c in listed[:5])}...")
        page = self.client.get(f"{API}/products?in_stock=true&limit=10")
        in_stock = [p for p in page["items"] if p["availability"]["total"] > 0]
        if len(in_stock) < 2:
            raise DemoError("the catalog needs at least two products in stock (run `ecommerce seed`)")
        currency = in_stock[0]["currency"]
        self.products = [p for p in in_stock if p["currency"] == currency][:2]
        for p in self.products:
            price = money(p["price"], p["currency"])
            self.say(f"#{p['id']} {p['name']} - {price}, {p['availability']['total']} in stock")
        detail = self.client.get(f"{API}/products/{self.products[0]['id']}")
        stock = ", ".join(f"{w['name']} {w['quantity']}" for w in detail["availability"].get("warehouses") or [])
        self.say(f"detail of #{detail['id']}: stock per warehouse: {stock or '-'}")

    def search(self) -> None:
        self.step("Search")
        words = sorted(re.findall(r"[A-Za-z]{4,}", self.products[0]["name"]), key=len, reverse=True)
        term = words[0].lower() if words else self.products[0]["name"]
        page = self.client.get(f"{API}/search?q={term}&limit=5")
        if not page["items"]:
            raise DemoError(f"searching for {term!r}, a word of a product's name, found nothing")
        top = page["items"][0]
        self.say(f"{len(page['items'])}+ hits for {term!r}; best: {top.get('highlighted_name') or top['name']}")

    def cart_and_checkout(self) -> None:
        self.step("Fill the cart and check out")
        address = self.client.post(f"{API}/users/me/addresses", ADDRESS)
        self.say(f"saved address #{address['id']} ({address['city']}, {address['country']})")
        for p in self.products:
            self.client.post(f"{API}/cart/items", {"product_id": p["id"], "quantity": 1})
        cart = self.client.get(f"{API}/cart")
        self.say(f"cart: {len(cart['items'])} lines, {money(cart['total'], cart['currency'])} priced live")
        self.order = self.client.post(f"{API}/orders", {"address_id": address["id"]},
                                      headers={"Idempotency-Key": str(uuid.uuid4())}, expect=(201,))
        self.say(f"order #{self.order['id']} is {self.order['order_status']}: stock reserved, "
                 f"total {money(self.order['total'], self.order.get('currency'))}")

    def pay(self) -> None:
        self.step("Pay")
        card = self.client.post(f"{API}/payments/tokens", CARD, expect=(201,))
        self.say(f"card tokenized: {card['brand']} ending {card['last4']} (the number never reaches the orders module)")
        charge = {"order_id": self.order["id"], "token_id": card["id"], "cvc": CARD["cvc"]}
        payment = self.client.post(f"{API}/payments", charge, headers={"Idempotency-Key": str(uuid.uuid4())},
                                   expect=(201,))
        self.say(f"payment #{payment['id']} {payment['status']}: {money(payment['amount'], payment['currency'])}")
        path = f"{API}/orders/{self.order['id']}"
        self.client.out(f"  -> GET {path}   (until the PaymentSucceeded event has reached the orders module)")
        order = self.eventually(lambda: self.client.get(path, quiet=True), lambda o: o["order_status"] == "paid",
                                "the order turning paid")
        self.say(f"order #{order['id']} is now {order['order_status']} (payment {order['payment_status']})")

    def enabled(self, path: str, module: str) -> bool:
        """A module can be disabled (``ECOMMERCE_DISABLED_MODULES``): its routes are then absent."""
        if self.client.request("GET", path, expect=(200, 404), quiet=True).status == 404:
            self.say(f"the {module} module is not enabled on this app: step skipped")
            return False
        return True

    def notifications(self) -> None:
        self.step("Notifications")
        path = f"{API}/notifications"
        if not self.enabled(path, "notifications"):
            return
        self.client.out(f"  -> GET {path}   (until the order and payment emails have been sent)")

        def complete(page: dict[str, Any]) -> bool:
            sent = {n.get("template") for n in page.get("items", []) if n.get("status") != "pending"}
            return {"order_placed", "payment_succeeded"} <= sent

        page = self.eventually(lambda: self.client.get(path, quiet=True), complete,
                               "the order and payment emails being sent")
        self.say(f"{len(page['items'])} notifications, {page.get('unread', '?')} unread:")
        for note in page["items"]:
            self.say(f"  [{note.get('status', '?')}] {note.get('subject', note.get('template'))}")
        first = page["items"][0]
        self.client.post(f"{path}/{first['id']}/read")
        self.say("marked the newest one read")

    def recommendations(self) -> None:
        self.step("Recommendations")
        bought, other = self.products[0], self.products[1]
        path = f"{API}/products/{bought['id']}/recommendations"
        if not self.enabled(path, "recommendations"):
            return
        self.client.out(f"  -> GET {path}   (until the paid order counts as 'bought together')")
        recs = self.eventually(lambda: self.client.get(path, quiet=True),
                               # by reason: the same product may show earlier as popular in its category
                               lambda r: any(i.get("id", i.get("product_id")) == other["id"]
                                             and i.get("reason") == "bought_together" for i in r["items"]),
                               f"#{other['id']} showing as bought together with #{bought['id']}")
        for item in recs["items"][:3]:
            self.say(f"#{item.get('id', item.get('product_id'))} {item.get('name', '')} ({item.get('reason', '')})")
        mine = self.client.get(f"{API}/users/me/recommendations")
        ids = {i.get("id", i.get("product_id")) for i in mine["items"]}
        if ids & {p["id"] for p in self.products}:
            raise DemoError("personal recommendations include something the customer already bought")
        self.say(f"for you: {len(mine['items'])} products, none of them already bought")

    def run(self) -> None:
        started = time.monotonic()
        self.out(f"ecommerce demo against {self.client.base_url}")
        self.register()
        self.browse()
        self.search()
        self.cart_and_checkout()
        self.pay()
        self.notifications()
        self.recommendations()
        self.out(f"\ndone: {self.client.calls} HTTP calls in {time.monotonic() - started:.1f} s. "
                 "Next: the API docs at /docs, `ecommerce modules`, and docs/index.md.")
