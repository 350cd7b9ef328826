"""What the benchmark loads and how it knows the answers are right.

``prepare`` builds, through the public API only, everything the endpoints need (a customer with a
cart, a deep cursor, a search word, checkout customers with addresses, stock) and checks each
endpoint's answer once before any load: a fast wrong answer is worth nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from benchmarks.http.client import Connection

API = "/api/v1"
ADMIN = ("admin@example.com", "admin-password-123")
PASSWORD = "bench-password-4711"
#: Checkout products: the first is scarce (customers race for its last units), the rest plentiful.
SCARCE_UNITS = 10
PLENTY_UNITS = 1_000_000


class WrongAnswer(AssertionError):
    """An endpoint answered, but not what it should have."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise WrongAnswer(message)


@dataclass
class Customer:
    email: str
    token: str
    address_id: int = 0

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Prepared:
    product_id: int
    detail: dict[str, Any]
    deep_cursor: str
    deep_page: int
    search_word: str
    cart_customer: Customer
    login: tuple[str, str]
    buyers: list[Customer] = field(default_factory=list)
    checkout_products: list[int] = field(default_factory=list)
    initial_stock: dict[int, int] = field(default_factory=dict)


async def call(conn: Connection, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
               status: int = 200) -> Any:
    answer = await conn.request(method, API + path, body, headers)
    expect(answer.status == status, f"{method} {path} answered {answer.status}, not {status}: {answer.body[:300]!r}")
    return answer.json() if answer.body else None


async def customer(conn: Connection, email: str) -> Customer:
    """Register (or reuse) a customer and log in."""
    answer = await conn.request("POST", API + "/auth/register", {"email": email, "password": PASSWORD})
    expect(answer.status in (201, 409), f"register {email}: {answer.status} {answer.body[:200]!r}")
    tokens = await call(conn, "POST", "/auth/login", {"email": email, "password": PASSWORD})
    return Customer(email, tokens["access_token"])


async def _buyer(base: str, index: int) -> Customer:
    conn = Connection(base)
    try:
        buyer = await customer(conn, f"bench-buyer-{index}@example.com")
        addresses = await call(conn, "GET", "/users/me/addresses", headers=buyer.auth)
        if addresses["items"]:
            buyer.address_id = addresses["items"][0]["id"]
        else:
            made = await call(conn, "POST", "/users/me/addresses", {"street": "1 Bench Way", "city": "Springfield",
                              "country": "US"}, buyer.auth, status=201)
            buyer.address_id = made["id"]
        await call(conn, "DELETE", "/cart", headers=buyer.auth)
        return buyer
    finally:
        await conn.close()


async def _deep_cursor(conn: Connection) -> tuple[str, int]:
    """Walk the default listing to its last page: the cursor a customer holds after paging deep."""
    cursor, pages, last = None, 0, ""
    while True:
        path = "/products?limit=20" + (f"&cursor={quote(cursor)}" if cursor else "")
        page = await call(conn, "GET", path)
        pages += 1
        expect(bool(page["items"]), f"page {pages} of /products is empty")
        if page["next_cursor"] is None:
            return last, pages
        cursor = last = page["next_cursor"]


async def prepare(base: str, buyers: int, round_no: int = 0, checkout_products: int = 10) -> Prepared:
    """Each round (worker count) checks out its own products: earlier rounds' orders still hold stock."""
    conn = Connection(base)
    try:
        first = await call(conn, "GET", "/products?limit=1")
        product_id = first["items"][0]["id"]
        detail = await call(conn, "GET", f"/products/{product_id}")
        expect(detail["id"] == product_id and "availability" in detail, "product detail is not the product")
        cursor, pages = await _deep_cursor(conn)
        word = " ".join(w for w in detail["name"].split() if w.isalpha())  # words a customer would type
        hits = await call(conn, "GET", f"/search?q={quote(word)}")
        expect(any(h["id"] == product_id for h in hits["items"]), f"search for {word!r} misses product {product_id}")

        shopper = await customer(conn, "bench-cart@example.com")
        await call(conn, "DELETE", "/cart", headers=shopper.auth)
        listing = await call(conn, "GET", "/products?limit=100")
        for item in listing["items"][:3]:
            await call(conn, "POST", "/cart/items", {"product_id": item["id"], "quantity": 2}, shopper.auth)
        cart = await call(conn, "GET", "/cart", headers=shopper.auth)
        expect(len(cart["items"]) == 3 and cart["total"] == sum(i["line_total"] for i in cart["items"]),
               "the cart does not add up")

        login = ("bench-login@example.com", PASSWORD)
        await customer(conn, login[0])

        admin = await customer_login(conn, *ADMIN)
        warehouses = await call(conn, "GET", "/warehouses", headers=admin.auth)
        end = len(listing["items"]) - round_no * checkout_products
        chosen = [item["id"] for item in listing["items"][end - checkout_products:end]]
        initial: dict[int, int] = {}
        for index, pid in enumerate(chosen):
            units = SCARCE_UNITS if index == 0 else PLENTY_UNITS
            for position, warehouse in enumerate(warehouses["items"]):
                quantity = units if position == 0 else 0
                await call(conn, "PUT", f"/warehouses/{warehouse['id']}/stock/{pid}", {"quantity": quantity},
                           admin.auth)
            initial[pid] = units
    finally:
        await conn.close()
    people = await asyncio.gather(*(_buyer(base, i) for i in range(buyers)))
    return Prepared(product_id, detail, cursor, pages, word, shopper, login, list(people), chosen, initial)


async def customer_login(conn: Connection, email: str, password: str) -> Customer:
    tokens = await call(conn, "POST", "/auth/login", {"email": email, "password": password})
    return Customer(email, tokens["access_token"])
