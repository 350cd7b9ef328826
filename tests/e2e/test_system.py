"""System routes, OpenAPI, security headers and request ids."""

from __future__ import annotations

import json
from typing import Any

import httpx
from openapi_spec_validator import validate

from ecommerce.kernel.settings import Settings
from tests.support.api import assert_problem, signed_in
from tests.support.live_server import LiveServer


def test_healthz_and_readyz(client: httpx.Client, settings: Settings) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    modules = {"catalog": "ok", "notifications": "ok", "orders": "ok", "payments": "ok", "recommendations": "ok",
               "search": "ok", "storefront": "ok", "users": "ok"}
    # With a broker (the postgres-rabbitmq layout) readiness reports it too; without one, not a word.
    broker = {"broker": "ok"} if settings.event_broker_url else {}
    assert ready.json() == {"status": "ok", "modules": modules, **broker}


def test_metrics_count_requests_by_route_pattern(client: httpx.Client) -> None:
    client.get("/healthz")
    signed_in(client)
    text = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'http_requests_total{method="POST",route="/api/v1/auth/register",status="201"}' in text
    assert "http_request_duration_seconds_bucket" in text


def test_openapi_is_valid_and_lists_the_routes(client: httpx.Client) -> None:
    spec = client.get("/docs/openapi.json").json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    assert {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/users/me"} <= set(paths)
    register = paths["/api/v1/auth/register"]["post"]
    assert register["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/RegisterIn")
    assert "201" in register["responses"] and "400" in register["responses"]
    assert paths["/api/v1/users/me"]["get"]["security"] == [{"bearer": []}]
    schemas = spec["components"]["schemas"]
    assert {"email", "password"} <= set(schemas["RegisterIn"]["properties"])
    assert "hashed_password" not in schemas["UserOut"]["properties"]


def test_every_app_in_a_process_publishes_the_same_document(client: httpx.Client, app_factory: Any) -> None:
    """The operations' definitions are built once per process and shared by every app made after
    (``kernel/http/endpoint.py``): a second app must publish exactly what the first does, with every
    route's answers, parameters and id ranges."""
    first = client.get("/docs/openapi.json").json()
    second_server = LiveServer(app_factory()).start()
    try:
        second = httpx.get(second_server.url + "/docs/openapi.json", timeout=30).json()
    finally:
        second_server.stop()
    assert second == first
    orders = first["paths"]["/api/v1/orders"]["post"]
    assert [p["name"] for p in orders["parameters"]] == ["Idempotency-Key"]
    assert {"201", "400", "401", "404", "409", "413", "422", "429"} <= set(orders["responses"])
    product = first["paths"]["/api/v1/products/{product_id}"]["get"]["parameters"][0]
    assert product["in"] == "path" and product["schema"]["minimum"] == 1


def test_every_process_publishes_the_document_in_one_order() -> None:
    """Paths and tags come in the order the routes are declared (``kernel/http/blueprint.py``): Sanic kept a
    blueprint's routes in a set, so each process listed them, and the tags, in another order; Swagger UI and
    the docs site's API reference reshuffled at every start, and no two builds compared equal."""
    import subprocess
    import sys

    script = ("import json, sys; from ecommerce.devtools.docsite import openapi; "
              "sys.stdout.write(json.dumps(openapi.document()))")
    built = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
             .stdout for _ in range(3)]
    assert built[0] and built[0] == built[1] == built[2]
    assert [tag["name"] for tag in json.loads(built[0])["tags"]][:3] == ["system", "catalog", "inventory"]


def test_swagger_ui_is_served_without_a_cdn(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert "/docs/assets/swagger-ui-bundle.min.js" in page.text
    asset = client.get("/docs/assets/swagger-ui-bundle.min.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert_problem(client.get("/docs/assets/etc-passwd"), 404)


def test_swagger_ui_opens_with_every_operation_collapsed(client: httpx.Client) -> None:
    page = client.get("/docs").text
    assert 'configUrl: "/docs/swagger-config"' in page
    config = client.get("/docs/swagger-config").json()
    assert config["docExpansion"] == "none"


def test_security_headers_and_request_id(client: httpx.Client) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


def test_errors_carry_the_request_id(client: httpx.Client) -> None:
    response = client.get("/api/v1/users/me", headers={"X-Request-ID": "abc-1"})
    assert_problem(response, 401)
    assert response.headers["x-request-id"] == "abc-1"


def test_problem_types_are_documented_at_their_uri(client: httpx.Client) -> None:
    body = client.get("/api/v1/users/me").json()
    described = client.get(body["type"])
    assert described.status_code == 200
    assert described.json() == {"type": body["type"], "title": body["title"], "status": 401}
    assert_problem(client.get("/problems/no-such-thing"), 404)


def test_api_responses_are_not_cached_by_default(client: httpx.Client) -> None:
    response = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever-x"})
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"
