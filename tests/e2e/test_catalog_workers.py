"""With Redis, an admin's price change is visible on the very next read in every worker."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.support.processes import cli_env, serving
from tests.support.services import require_redis


def test_price_change_is_seen_by_every_worker_with_redis(tmp_path: Path) -> None:
    extra = {"ECOMMERCE_REDIS_URL": require_redis(), "ECOMMERCE_RATE_LIMIT_NAMESPACE": uuid.uuid4().hex,
             "ECOMMERCE_CACHE_TTL": "3600"}
    admin = subprocess.run(
        [sys.executable, "-m", "ecommerce", "users", "create-admin", "ops@example.com"], input="ops-password-9911\n",
        cwd=tmp_path, env=cli_env(tmp_path, **extra), capture_output=True, text=True, timeout=120,
    )
    assert admin.returncode == 0, admin.stderr
    with serving(tmp_path, "--workers", "2", "--demo", **extra) as base:
        def read_price(product_id: int) -> int:
            with httpx.Client(base_url=base, timeout=10) as c:  # new connection: either worker may answer
                return int(c.get(f"/api/v1/products/{product_id}").json()["price"])

        with httpx.Client(base_url=base, timeout=10) as c:
            token = c.post("/api/v1/auth/login", json={"email": "ops@example.com", "password": "ops-password-9911"})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            product = c.get("/api/v1/products", params={"limit": 1}).json()["items"][0]
        before = {read_price(product["id"]) for _ in range(8)}  # both workers now hold it in the cache
        assert before == {product["price"]}
        with httpx.Client(base_url=base, timeout=10) as c:
            changed = c.patch(f"/api/v1/products/{product['id']}", json={"price": product["price"] + 500},
                              headers=headers)
            assert changed.status_code == 200, changed.text
        after = [read_price(product["id"]) for _ in range(12)]
    assert after == [product["price"] + 500] * 12
