"""Request hardening: body and page-size limits, security headers, HSTS only over TLS, CORS."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ecommerce.modules.users import accounts
from tests.support.api import assert_problem, login
from tests.support.live_server import LiveServer
from tests.support.shop import Shop


def test_two_megabyte_body_on_an_authenticated_route_is_413(shop: Shop) -> None:
    _, tokens = shop.account()
    response = shop.client.patch("/api/v1/users/me", json={"phone": "1" * (2 * 1024 * 1024)},
                                 headers=shop.headers(tokens))
    assert_problem(response, 413)


def test_page_size_is_at_most_100_and_more_is_refused(shop: Shop) -> None:
    admin_user, _ = shop.account()
    shop.kernel.runner.call(accounts.set_role, admin_user["id"], "admin")
    for n in range(105):
        shop.kernel.runner.call(accounts.register, f"bulk{n}@example.com", "bulk-password-123")
    headers = shop.headers(login(shop.client, admin_user["email"]))
    # Refused, not silently capped (issue 14): the contract publishes maximum 100 and the server enforces it.
    assert_problem(shop.client.get("/api/v1/admin/users", params={"limit": 100000}, headers=headers), 400, "limit")
    page = shop.client.get("/api/v1/admin/users", params={"limit": 100}, headers=headers).json()
    assert len(page["items"]) == 100 and page["next_cursor"]
    rest = shop.client.get("/api/v1/admin/users", params={"cursor": page["next_cursor"]}, headers=headers).json()
    assert len(rest["items"]) == 6 and rest["next_cursor"] is None
    assert not {u["id"] for u in page["items"]} & {u["id"] for u in rest["items"]}
    forged = base64.urlsafe_b64encode(b'{"id":"x"}').decode()
    for bad in ({"limit": "abc"}, {"limit": 0}, {"limit": -5}, {"limit": 101}, {"cursor": "not-a-cursor!!"},
                {"cursor": "W10"}, {"cursor": forged}):
        assert_problem(shop.client.get("/api/v1/admin/users", params=bad, headers=headers), 400)


def test_a_redis_outage_does_not_take_the_api_down(shop_factory: Any) -> None:
    shop: Shop = shop_factory(redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    _, tokens = shop.account()
    assert shop.client.get("/api/v1/users/me", headers=shop.headers(tokens)).status_code == 200
    assert shop.client.get("/api/v1/products").status_code == 200
    ready = shop.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["redis"] == "unavailable"


def test_security_headers_on_api_responses(shop: Shop) -> None:
    response = shop.client.get("/api/v1/users/me")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers  # plain HTTP: HSTS would be ignored anyway


def test_hsts_only_when_a_trusted_proxy_says_https(shop_factory: Any) -> None:
    untrusted: Shop = shop_factory()
    spoofed = untrusted.client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    behind_proxy: Shop = shop_factory(trusted_proxies=("127.0.0.1/32",))
    forwarded = behind_proxy.client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert forwarded.headers["strict-transport-security"].startswith("max-age=31536000")


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return cert_path, key_path


def test_tls_is_served_and_gets_hsts(app_factory: Any, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = LiveServer(app_factory(), ssl={"cert": str(cert), "key": str(key)}).start()
    try:
        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=server.url, verify=context, timeout=30) as client:
            response = client.get("/healthz")
        assert server.url.startswith("https://")
        assert response.status_code == 200
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    finally:
        server.stop()


def test_cors_only_for_configured_origins(shop_factory: Any) -> None:
    preflight = {"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    closed: Shop = shop_factory()
    assert "access-control-allow-origin" not in closed.client.options("/api/v1/auth/login", headers=preflight).headers
    open_: Shop = shop_factory(cors_origins=("https://shop.example.com",))
    allowed = open_.client.options("/api/v1/auth/login", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example.com"
    other = open_.client.options("/api/v1/auth/login", headers={**preflight, "Origin": "https://evil.example"})
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"
