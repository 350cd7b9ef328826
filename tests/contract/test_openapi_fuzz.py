"""Schemathesis over the whole published OpenAPI document, against the live app over real HTTP.

Why: the contract must say what the server enforces. Every operation of ``/docs/openapi.json`` (a new
route is covered as soon as it is published) is called with generated valid and invalid input, as a
customer and as an admin, on SQLite and PostgreSQL, with every schemathesis check enabled: no 500, every
status, header, content type and body documented, invalid input refused, valid input accepted, the
documented auth enforced, undocumented methods answered 405 with ``Allow``.

Deterministic (a fixed seed, no example database) with a small budget per operation so the run fits CI;
``ECOMMERCE_FUZZ_EXAMPLES`` raises the budget for a deeper local run (docs/testing.md).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from ecommerce.kernel.http.idempotency import KEY as IDEMPOTENCY_KEY
from ecommerce.modules.orders import cart
from ecommerce.modules.users import accounts as users_accounts
from ecommerce.modules.users import addresses
from tests.support.api import PASSWORD, login, register
from tests.support.catalog import stocked
from tests.support.orders import ADDRESS
from tests.support.shop import Shop

#: Examples per operation and phase; CI's budget. ``ECOMMERCE_FUZZ_EXAMPLES=200`` for a deeper local run.
EXAMPLES = int(os.environ.get("ECOMMERCE_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("ECOMMERCE_FUZZ_SEED", "20261204"))
#: Operations whose input has a rule no JSON Schema can state (a Luhn check, a common-password list, a
#: reference to a row that must exist, words in a search): schema-valid input may still be refused with
#: 400, and the document says so in the field's description. Every other operation must accept all
#: schema-valid input; a new route is held to that by default.
SEMANTIC_400 = {
    "POST /api/v1/auth/register": "a deliverable-looking email, not a common password",
    "PATCH /api/v1/users/me": "not a common password; the current password must be right",
    "POST /api/v1/payments/tokens": "a Luhn-valid card number that has not expired",
    "GET /api/v1/search": "words to search for; an existing category",
    "GET /api/v1/products": "an existing category",
    "POST /api/v1/products": "an existing brand and category",
    "PATCH /api/v1/products/{product_id}": "an existing brand and category",
    "POST /api/v1/categories": "an existing parent",
    "PATCH /api/v1/categories/{category_id}": "an existing parent that is not below the category",
    "GET /api/v1/admin/orders": "ISO 8601 dates",
}
CARD = {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2035, "cvc": "123",
        "holder_name": "Ada Lovelace"}


@dataclass
class Target:
    """The seeded live app and the credentials of one role."""

    shop: Shop
    email: str
    token: str
    #: A cursor the server issued for each list route (the path as the document spells it).
    cursors: dict[str, str]

    def fresh_token(self) -> str:
        """A new session of the same user (for the routes that end the session they are called with)."""
        answer = self.shop.client.post("/api/v1/auth/login", json={"email": self.email, "password": PASSWORD})
        if answer.status_code != 200:
            # An admin run that suspended, deleted or demoted its own account locks itself out: the server
            # must refuse that (409), so this is a finding, not a flaky fixture.
            raise AssertionError(f"the run's own account can no longer log in: {answer.status_code} {answer.text}")
        return str(answer.json()["access_token"])


def _seed(shop: Shop, role: str) -> Target:
    """A product in stock, an address, a cart, an order and a saved card, so operations reach real code."""
    kernel, client = shop.kernel, shop.client
    user = register(client)
    if role == "admin":
        kernel.runner.call(users_accounts.set_role, user["id"], "admin")
    tokens = login(client, user["email"])
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    product_id, _ = stocked(kernel, 50)
    spare_id, _ = stocked(kernel, 50)
    address = kernel.runner.call(addresses.create, user["id"], dict(ADDRESS))
    kernel.runner.call(cart.add, user["id"], product_id, 2)
    order = client.post("/api/v1/orders", json={"address_id": address.id}, headers={**headers,
                        "Idempotency-Key": "fuzz-seed-order"})
    assert order.status_code == 201, order.text
    kernel.runner.call(cart.add, user["id"], spare_id, 1)
    card = client.post("/api/v1/payments/tokens", json=CARD, headers=headers)
    assert card.status_code == 201, card.text
    kernel.runner.call(addresses.create, user["id"], dict(ADDRESS))
    spec = client.get("/docs/openapi.json").json()
    cursors = {}
    for path, methods in spec["paths"].items():
        listing = methods.get("get", {})
        if "{" in path or not any(p["name"] == "cursor" for p in listing.get("parameters", [])):
            continue
        q = {"q": "product"} if path.endswith("/search") else {}
        page = client.get(path, params={**q, "limit": 1}, headers=headers)
        if page.status_code == 200 and page.json().get("next_cursor"):
            cursors[path] = page.json()["next_cursor"]
    return Target(shop, user["email"], tokens["access_token"], cursors)


@pytest.fixture(params=["customer", "admin"])
def role(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def target(shop: Shop, role: str) -> Target:
    return _seed(shop, role)


def _exchange(interaction: Any) -> str:
    """The request and the answer, as a reproduction: ``METHOD url body -> status body``."""
    if interaction is None:
        return "(no request recorded)"
    request, response = interaction.request, interaction.response
    sent = (request.body or b"")[:300].decode(errors="replace")
    answer = f"{response.status_code} {response.content[:300].decode(errors='replace')}" if response else "no answer"
    return f"{request.method} {request.uri} {sent} -> {answer}"


def _failures(schema: Any) -> tuple[list[str], dict[str, int]]:
    """Run every phase over every operation; the failures (one line each, with a curl reproduction)."""
    found: dict[tuple[str, str, str], str] = {}
    phases: dict[str, int] = {}
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            phases[str(event.phase)] = phases.get(str(event.phase), 0) + len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    key = (event.label or "", check.name, failure.title)
                    found.setdefault(key, f"{event.label} [{check.name}] {failure.title}: {failure.message[:400]}"
                                          f"\n    {_exchange(event.recorder.interactions.get(case_id))}")
        elif isinstance(event, events.NonFatalError):
            found.setdefault((event.label, "error", type(event.value).__name__),
                             f"{event.label} [error] {event.info.format()[:500]}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return sorted(found.values()), phases


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_the_server_keeps_its_published_contract(target: Target) -> None:
    url = target.shop.server.url
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "workers": 1,
        # No state carried between runs (schemathesis keeps one in .schemathesis/ by default): the same
        # seed must give the same run on a laptop and in a fresh CI clone.
        "cache": {"enabled": False},
        # No NUL in generated text: the API refuses it in every string (PostgreSQL cannot store it), a rule
        # the document states once in its description rather than as a pattern on every field.
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none", "allow-x00": False},
        "checks": {"enabled": True},
        "phases": {"enabled": True},
        "operations": [
            {"include-name": name, "checks": {"positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", 400, 401, 403, 404, 409, 429]}}}
            for name in SEMANTIC_400
        ],
    })
    schema = schemathesis.openapi.from_url(f"{url}/docs/openapi.json", config=config)
    schema.config.update(base_url=url, request_timeout=30)


    @schema.auth(refresh_interval=None, retry_on=[])
    class Bearer:
        def get(self, case: Case, ctx: Any) -> str:
            if case.operation.path.endswith("/auth/logout"):
                return target.fresh_token()  # logging out must not end the session the run uses
            return target.token

        def set(self, case: Case, data: str, ctx: Any) -> None:
            headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
            # A client sends a new Idempotency-Key with each new request: a generated key reused with another
            # body gets the documented 422, not a refusal of valid input. Invalid keys stay as generated.
            key = headers.get("Idempotency-Key")
            if isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key):
                headers["Idempotency-Key"] = f"{key[:240]}-{next(keys)}"
            case.headers = headers

    @schema.hook("map_query")
    def real_cursors(context: Any, query: dict[str, Any]) -> dict[str, Any]:
        # Only the server makes valid cursors (format page-cursor): use one it issued for this list, or none.
        if query and "cursor" in query:
            query = dict(query)
            issued = target.cursors.get(context.operation.path)
            if issued is None:
                del query["cursor"]
            else:
                query["cursor"] = issued
        return query

    keys = itertools.count(1)


    failures, cases = _failures(schema)
    print(f"schemathesis cases per phase: {cases}")
    assert not failures, f"{len(failures)} contract failures:\n" + "\n".join(failures)
