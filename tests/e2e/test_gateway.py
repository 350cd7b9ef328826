"""The nginx gateway in front of the real app: ``ecommerce gateway nginx`` writes the configuration for
the shipped monolith layout, ``ecommerce serve --layout`` starts the service it names, and every check
goes through a real nginx process (Debian's package)."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from ecommerce.kernel.layout import SHIPPED
from tests.security.test_hardening import self_signed
from tests.support import nginx
from tests.support.api import PASSWORD, new_email
from tests.support.processes import cli_env, free_port, server_process

MAX_BODY = 64 * 1024
CLIENT = "127.0.0.5"  # the test's client address: on loopback, but not the gateway's (127.0.0.1)


@dataclass
class Stack:
    app: str  # the app, directly
    gateway: str  # the same app through nginx
    data: Path
    conf: str
    process: subprocess.Popen[str]  # the app's


def _layout(tmp_path: Path, app_port: int, gateway_port: int) -> Path:
    """The shipped monolith layout, on free ports."""
    text = (SHIPPED / "monolith.toml").read_text()
    assert '"127.0.0.1:8001"' in text and '"127.0.0.1:8000"' in text
    path = tmp_path / "monolith.toml"
    path.write_text(text.replace('"127.0.0.1:8001"', f'"127.0.0.1:{app_port}"')
                    .replace('"127.0.0.1:8000"', f'"127.0.0.1:{gateway_port}"'))
    return path


@contextmanager
def stack(tmp_path: Path, *, trusted: bool, gateway_args: tuple[str, ...] = ()) -> Iterator[Stack]:
    app_port, gateway_port = free_port(), free_port()
    layout = _layout(tmp_path, app_port, gateway_port)
    env = cli_env(tmp_path, ECOMMERCE_MAX_BODY_BYTES=str(MAX_BODY), ECOMMERCE_RELAY_INTERVAL="0.2",
                  ECOMMERCE_JOB_INTERVAL="0.5", **({"ECOMMERCE_TRUSTED_PROXIES": "127.0.0.1"} if trusted else {}))
    conf = tmp_path / "nginx.conf"
    generated = subprocess.run([sys.executable, "-m", "ecommerce", "gateway", "nginx", "--layout", str(layout),
                                "--output", str(conf), *gateway_args], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=60)
    assert generated.returncode == 0, generated.stderr
    text = conf.read_text()
    assert f"client_max_body_size {MAX_BODY};" in text and f"server 127.0.0.1:{app_port} " in text
    checked = nginx.check(conf, tmp_path / "nginx")
    assert checked.returncode == 0, checked.stderr
    with server_process(tmp_path, env, "--layout", str(layout), "--service", "app", "--demo", port=app_port) as (
        process, app
    ), nginx.running(conf, tmp_path / "nginx", gateway_port):
        scheme = "https" if gateway_args else "http"
        yield Stack(app, f"{scheme}://127.0.0.1:{gateway_port}", tmp_path / "data", text, process)


def _client(base: str) -> httpx.Client:
    """A client that connects from CLIENT, so the gateway sees a different address than its own (and
    accepts the test's self-signed certificate)."""
    return httpx.Client(base_url=base, timeout=30,
                        transport=httpx.HTTPTransport(local_address=CLIENT, verify=False))


def _login_ip(data: Path, client: httpx.Client) -> str:
    """Register and log in through ``client`` (which lies in X-Forwarded-For); the address the app
    recorded for the session."""
    email = new_email()
    assert client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    tokens = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD},
                         headers={"X-Forwarded-For": "6.6.6.6"})
    assert tokens.status_code == 200, tokens.text
    with sqlite3.connect(data / "ecommerce.db") as db:
        row = db.execute("SELECT s.ip FROM auth_session s JOIN users u ON u.id = s.user_id WHERE u.email = ?",
                         (email,)).fetchone()
    assert row is not None
    return str(row[0])


def test_the_monolith_behind_nginx(tmp_path: Path) -> None:
    with stack(tmp_path, trusted=True) as shop, _client(shop.gateway) as through, httpx.Client(
        base_url=shop.app, timeout=30
    ) as direct:
        # The public API: register, log in, list products.
        email = new_email()
        registered = through.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        tokens = through.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
        me = through.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200 and me.json()["email"] == email
        products = through.get("/api/v1/products", params={"limit": 5})
        assert products.status_code == 200 and len(products.json()["items"]) == 5
        product_id = products.json()["items"][0]["id"]
        recommended = through.get(f"/api/v1/products/{product_id}/recommendations")
        assert recommended.status_code == 200, recommended.text
        # Unknown paths reach the app: its own problem 404.
        unknown = through.get("/api/v1/nothing-here")
        assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"

        # Swagger UI, its assets and the OpenAPI document are byte for byte the app's own.
        for path in ("/docs", "/docs/openapi.json", "/docs/assets/swagger-ui-bundle.min.js"):
            mine, theirs = through.get(path), direct.get(path)
            assert mine.status_code == theirs.status_code == 200, path
            assert mine.content == theirs.content, path
            assert mine.headers["content-type"] == theirs.headers["content-type"], path
        assert "/api/v1/orders" in through.get("/docs/openapi.json").json()["paths"]
        assert through.get("/healthz").json() == {"status": "ok"}
        assert through.get("/readyz").status_code == 200

        # A body over ECOMMERCE_MAX_BODY_BYTES stops at the gateway: 413, a problem body.
        big = through.post("/api/v1/auth/register", content=b'{"email": "' + b"a" * MAX_BODY + b'"}',
                           headers={"Content-Type": "application/json"})
        assert big.status_code == 413
        assert big.json()["type"] == "/problems/payload-too-large"
        assert through.post("/api/v1/auth/register", content=b"x" * (MAX_BODY // 2),
                            headers={"Content-Type": "application/json"}).status_code == 400  # under: the app's answer

        # Service-to-service routes and metrics are never public.
        for path in ("/internal/", "/internal/catalog/reserve", "/metrics", "/metrics/"):
            hidden = through.get(path)
            assert hidden.status_code == 404, path
            assert hidden.json()["type"] == "/problems/not-found"
        assert direct.get("/metrics").status_code == 200

        # The request id: the client's when acceptable, else one nginx made; the app echoes it.
        assert through.get("/healthz", headers={"X-Request-Id": "trace-42"}).headers["x-request-id"] == "trace-42"
        made = through.get("/healthz", headers={"X-Request-Id": "not acceptable!"}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)

        # The app trusts the gateway (ECOMMERCE_TRUSTED_PROXIES=127.0.0.1): it records the client's
        # address, never what the client wrote in X-Forwarded-For.
        assert _login_ip(shop.data, through) == CLIENT

        # A whole customer journey, checkout and payment included, through the gateway.
        demo = subprocess.run([sys.executable, "-m", "ecommerce", "demo", "--url", shop.gateway],
                              cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True, timeout=180)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "POST /api/v1/orders" in demo.stdout and "POST /api/v1/payments" in demo.stdout


def test_an_untrusted_gateway_is_the_client_and_a_dead_service_is_a_503(tmp_path: Path) -> None:
    with stack(tmp_path, trusted=False) as shop, _client(shop.gateway) as through:
        # Without ECOMMERCE_TRUSTED_PROXIES the app ignores X-Forwarded-For: it sees the gateway.
        assert _login_ip(shop.data, through) == "127.0.0.1"
        # The service stops: nginx answers 503 with a problem body and Retry-After, never a bare 502.
        shop.process.send_signal(signal.SIGINT)
        shop.process.wait(timeout=30)
        down = through.get("/api/v1/products")
        assert down.status_code == 503
        assert down.headers["retry-after"] == "5"
        assert down.json()["type"] == "/problems/service-unavailable"
        assert through.post("/api/v1/auth/login", json={}).status_code == 503


def test_two_services_behind_one_gateway(tmp_path: Path) -> None:
    """Two services with no facade call between them: users in one service, catalog and search in
    another, the other modules disabled (the split layout with remote facades: test_split_layout.py).
    Each process runs only its modules on its own database; nginx sends every path to the one that hosts
    it."""
    accounts_port, shop_port, gateway_port = free_port(), free_port(), free_port()
    layout = tmp_path / "two.toml"
    layout.write_text(f"""
[gateway]
address = "127.0.0.1:{gateway_port}"
default = "accounts"

[databases]
default = "sqlite:///{tmp_path}/{{service}}.db"

[services.accounts]
address = "127.0.0.1:{accounts_port}"
modules = ["users"]

[services.shop]
address = "127.0.0.1:{shop_port}"
modules = ["catalog", "search"]
""")
    env = cli_env(tmp_path, ECOMMERCE_DISABLED_MODULES="orders,payments,recommendations,notifications,storefront",
                  ECOMMERCE_TRUSTED_PROXIES="127.0.0.1")
    conf = tmp_path / "nginx.conf"
    generated = subprocess.run([sys.executable, "-m", "ecommerce", "gateway", "nginx", "--layout", str(layout),
                                "--output", str(conf)], cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=60)
    assert generated.returncode == 0, generated.stderr
    serve = ("--layout", str(layout), "--demo", "--service")
    with server_process(tmp_path, env, *serve, "accounts", port=accounts_port) as (_, accounts), server_process(
        tmp_path, env, *serve, "shop", port=shop_port
    ) as (_, shop), nginx.running(conf, tmp_path / "nginx", gateway_port), _client(
        f"http://127.0.0.1:{gateway_port}"
    ) as through:
        # Each process runs its own modules only, each on its own database file.
        assert httpx.get(f"{accounts}/readyz").json()["modules"] == {"users": "ok"}
        assert httpx.get(f"{shop}/readyz").json()["modules"] == {"catalog": "ok", "search": "ok"}
        assert (tmp_path / "accounts.db").exists() and (tmp_path / "shop.db").exists()

        email = new_email()
        assert through.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
        tokens = through.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
        me = through.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200 and me.json()["email"] == email
        products = through.get("/api/v1/products", params={"limit": 3})
        assert products.status_code == 200 and len(products.json()["items"]) == 3
        assert httpx.get(f"{accounts}/api/v1/products").status_code == 404  # not hosted there
        found = through.get("/api/v1/search", params={"q": "laptop"})
        assert found.status_code == 200 and found.json()["items"], found.text
        # The system routes come from the default service.
        assert through.get("/docs/openapi.json").content == httpx.get(f"{accounts}/docs/openapi.json").content
        assert through.get("/readyz").json()["modules"] == {"users": "ok"}


def test_tls_at_the_gateway(tmp_path: Path) -> None:
    """With --tls-cert/--tls-key nginx serves HTTPS and says so to the app (X-Forwarded-Proto), which
    believes it from a trusted proxy and sends HSTS; the app itself still speaks plain HTTP."""
    cert, key = self_signed(tmp_path)
    with stack(tmp_path, trusted=True, gateway_args=("--tls-cert", str(cert), "--tls-key", str(key))) as shop, \
            _client(shop.gateway) as through:
        assert shop.gateway.startswith("https://")
        assert f"ssl_certificate {cert};" in shop.conf
        products = through.get("/api/v1/products", params={"limit": 1})
        assert products.status_code == 200
        assert products.headers["strict-transport-security"].startswith("max-age=")
        assert "strict-transport-security" not in httpx.get(f"{shop.app}/api/v1/products").headers
