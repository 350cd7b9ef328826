"""The ``ecommerce`` command as a new hire types it: real processes, real exit codes."""

from __future__ import annotations

import datetime
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ecommerce import __version__
from tests.support.processes import cli_env, server_process, serving


def run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecommerce", *args],
        cwd=tmp_path, env=cli_env(tmp_path, **extra), capture_output=True, text=True, timeout=120,
    )


def test_version(tmp_path: Path) -> None:
    result = run(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"ecommerce {__version__}"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"ECOMMERCE_DATABASE_URL": "nonsense://x"}, "ECOMMERCE_DATABASE_URL"),
        ({"ECOMMERCE_DATABASE_URL": "postgresql://localhost"}, "ECOMMERCE_DATABASE_URL"),
        ({"ECOMMERCE_DATABASE_URL_USERS": "mysql://x/y"}, "ECOMMERCE_DATABASE_URL_USERS"),
        ({"ECOMMERCE_ACCESS_TOKEN_TTL": "soon"}, "ECOMMERCE_ACCESS_TOKEN_TTL"),
        ({"ECOMMERCE_ACCESS_TOKEN_TTL": "5"}, "ECOMMERCE_ACCESS_TOKEN_TTL"),
        ({"ECOMMERCE_ENV": "staging"}, "ECOMMERCE_ENV"),
        ({"ECOMMERCE_RUN_RELAY": "maybe"}, "ECOMMERCE_RUN_RELAY"),
        ({"ECOMMERCE_MODULES": "users,nope"}, "ECOMMERCE_MODULES"),
        ({"ECOMMERCE_DISABLED_MODULES": "nope"}, "ECOMMERCE_DISABLED_MODULES"),
        ({"ECOMMERCE_PORT": "abc"}, "ECOMMERCE_PORT"),
        ({"ECOMMERCE_EVENT_BROKER_URL": "http://127.0.0.1:5672/"}, "ECOMMERCE_EVENT_BROKER_URL"),
        ({"ECOMMERCE_EVENT_BROKER_NAMESPACE": "Shop One"}, "ECOMMERCE_EVENT_BROKER_NAMESPACE"),
        ({"ECOMMERCE_REDIS_URL": "http://x"}, "ECOMMERCE_REDIS_URL"),
        ({"ECOMMERCE_AUTH_RATE_LIMIT": "lots"}, "ECOMMERCE_AUTH_RATE_LIMIT"),
        ({"ECOMMERCE_TRUSTED_PROXIES": "10.0.0.300"}, "ECOMMERCE_TRUSTED_PROXIES"),
        ({"ECOMMERCE_CORS_ORIGINS": "shop.example.com"}, "ECOMMERCE_CORS_ORIGINS"),
        ({"ECOMMERCE_SECRET_KEY": "short"}, "ECOMMERCE_SECRET_KEY"),
        ({"ECOMMERCE_ENV": "production"}, "ECOMMERCE_SECRET_KEY"),
        ({"ECOMMERCE_CONFIG": "/does/not/exist.toml"}, "ECOMMERCE_CONFIG"),
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path, variables: dict[str, str], named: str) -> None:
    result = run(tmp_path, "serve", **variables)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_config_file_is_read_and_env_wins(tmp_path: Path) -> None:
    config = tmp_path / "ecommerce.toml"
    config.write_text('access_token_ttl = 600\nlog_format = "text"\n[databases]\nusers = "sqlite:///u.db"\n')
    result = run(tmp_path, "config", ECOMMERCE_CONFIG=str(config), ECOMMERCE_LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    assert "access_token_ttl = 600" in result.stdout
    assert "log_format = json" in result.stdout
    assert "'users': 'sqlite:///u.db'" in result.stdout
    config.write_text("access_token_ttl = 'x'\n")
    bad = run(tmp_path, "config", ECOMMERCE_CONFIG=str(config))
    assert bad.returncode == 2 and "access_token_ttl" in bad.stderr


def test_migrate_is_recorded_and_idempotent(tmp_path: Path) -> None:
    status = run(tmp_path, "migrate", "--status", "--check")
    assert status.returncode == 1 and "pending" in status.stdout
    first = run(tmp_path, "migrate")
    assert first.returncode == 0 and "applied users: module:0001_initial" in first.stdout
    second = run(tmp_path, "migrate")
    assert second.returncode == 0 and "up to date" in second.stdout
    status = run(tmp_path, "migrate", "--status", "--check")
    assert status.returncode == 0 and "pending" not in status.stdout
    assert "0001_initial" in status.stdout


def test_modules_table(tmp_path: Path) -> None:
    result = run(tmp_path, "modules")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "users (enabled)" in out
    assert "users, auth_session, blocked_auth" in out
    assert "POST /api/v1/auth/register" in out and "GET /api/v1/users/me" in out
    assert "users.UserRegistered.v1" in out
    # An event two handlers of one module consume is listed once, with its number of handlers.
    recommendations = out.split("recommendations (enabled)", 1)[1].split("\n  routes:", 1)[0]
    assert "consumes:  orders.OrderPlaced.v1 (2 handlers), orders.OrderStatusChanged.v1," in recommendations
    assert recommendations.count("orders.OrderPlaced.v1") == 1
    disabled = run(tmp_path, "modules", ECOMMERCE_DISABLED_MODULES="users")
    assert "users (disabled)" in disabled.stdout


def test_seed_and_events(tmp_path: Path) -> None:
    first = run(tmp_path, "seed")
    assert first.returncode == 0 and "admin@example.com" in first.stdout
    assert ("catalog: 280 products in 19 categories (5 departments, 14 under them), 15 brands, 3 warehouses"
            in first.stdout)
    again = run(tmp_path, "seed")
    assert again.returncode == 0 and again.stdout == ""  # idempotent: nothing new
    status = run(tmp_path, "events", "status")
    assert status.returncode == 0
    rows = {line.split()[0]: line.split()[1:] for line in status.stdout.splitlines()[1:]}
    assert rows["users"][:3] == ["2", "0", "0"] and rows["users"][3].endswith("s")  # the oldest one's age
    assert int(rows["catalog"][0]) >= 280  # one ProductCreated per product, plus stock changes
    relay = run(tmp_path, "events", "relay")
    assert relay.returncode == 0 and "failed 0" in relay.stdout
    after = run(tmp_path, "events", "status").stdout.splitlines()[1:]
    assert all(line.split()[1:3] == ["0", "0"] for line in after), after


def test_events_consume_needs_a_broker(tmp_path: Path) -> None:
    result = run(tmp_path, "events", "consume")
    assert result.returncode == 2 and "needs a broker (ECOMMERCE_EVENT_BROKER_URL" in result.stderr
    assert result.stderr.count("\n") == 1


def test_seed_scale_generates_the_benchmark_dataset_once(tmp_path: Path) -> None:
    first = run(tmp_path, "seed", "--scale", "1", "--quiet")
    assert first.returncode == 0, first.stderr
    assert "catalog: 280 products" in first.stdout  # the demo data comes first
    assert ("dataset: scale 1: 2000 users" in first.stdout and "10000 orders" in first.stdout
            and "10000 reservations" in first.stdout), first.stdout
    again = run(tmp_path, "seed", "--scale", "1", "--quiet")
    assert again.returncode == 0 and again.stdout == (
        "dataset: a generated dataset is already here (users @example.net); nothing added\n")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_demo_answers_the_readme_walkthrough(tmp_path: Path, workers: str) -> None:
    with serving(tmp_path, "--demo", "--workers", workers) as base, httpx.Client(base_url=base, timeout=10) as c:
        assert c.get("/healthz").status_code == 200
        assert "http_requests_total" in c.get("/metrics").text
        assert "/api/v1/users/me" in c.get("/docs/openapi.json").json()["paths"]
        demo = {"email": "customer@example.com", "password": "customer-password-123"}
        login = c.post("/api/v1/auth/login", json=demo)
        assert login.status_code == 200, login.text
        me = c.get("/api/v1/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert me.json()["email"] == "customer@example.com"


def run_with_input(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecommerce", *args],
        cwd=tmp_path, env=cli_env(tmp_path), input=text, capture_output=True, text=True, timeout=120,
    )


def test_create_admin_reads_the_password_from_stdin(tmp_path: Path) -> None:
    created = run_with_input(tmp_path, "boss-password-4411\n", "users", "create-admin", "Boss@Example.com")
    assert created.returncode == 0, created.stderr
    assert "created admin boss@example.com" in created.stdout
    again = run_with_input(tmp_path, "boss-password-4411\n", "users", "create-admin", "boss@example.com")
    assert again.returncode == 1 and "--promote" in again.stderr
    weak = run_with_input(tmp_path, "password\n", "users", "create-admin", "weak@example.com")
    assert weak.returncode == 1 and "password" in weak.stderr and "Traceback" not in weak.stderr

    from ecommerce.kernel.bootstrap import Kernel
    from ecommerce.kernel.settings import Settings
    from ecommerce.modules.users import api, sessions

    kernel = Kernel(Settings(data_dir=tmp_path / "data",
                             module_settings={"users": {"argon2_time_cost": 1, "argon2_memory_cost": 8}}))
    try:
        pair = kernel.runner.call(sessions.login, "boss@example.com", "boss-password-4411")
        assert kernel.runner.call(kernel.authenticate, pair.access_token).is_admin
        kernel.runner.call(api.register, "later@example.com", "later-password-4411")
    finally:
        kernel.close()
    promoted = run(tmp_path, "users", "create-admin", "later@example.com", "--promote")
    assert promoted.returncode == 0 and "now an admin" in promoted.stdout


def test_rotate_key_and_purge(tmp_path: Path) -> None:
    first = run(tmp_path, "auth", "rotate-key")
    assert first.returncode == 0, first.stderr
    assert "new signing key" in first.stdout and first.stdout.count(" live") == 1
    second = run(tmp_path, "auth", "rotate-key")
    assert second.stdout.count(" live") == 2  # the previous key keeps verifying during the grace period
    purged = run(tmp_path, "auth", "purge")
    assert purged.returncode == 0 and purged.stdout.startswith("purged 0 blocked token(s)")


def test_orders_expire_command(tmp_path: Path) -> None:
    result = run(tmp_path, "orders", "expire")
    assert result.returncode == 0 and result.stdout.strip() == "expired 0 order(s)"


def test_orders_purge_carts_command(tmp_path: Path) -> None:
    """A cart nobody changed for longer than ``ECOMMERCE_ORDERS_CART_TTL`` is deleted by the command; a
    cart changed within it is kept."""
    from ecommerce.kernel.bootstrap import Kernel
    from ecommerce.kernel.clock import utcnow
    from ecommerce.kernel.settings import Settings
    from ecommerce.modules.orders import cart
    from ecommerce.modules.orders.models import Cart
    from tests.support.catalog import stocked
    from tests.support.orders import shopper

    kernel = Kernel(Settings.from_env(cli_env(tmp_path)))
    try:
        kernel.migrate()
        product_id, _ = stocked(kernel, 5)
        idle, active = shopper(kernel)[0], shopper(kernel)[0]
        for user_id in (idle, active):
            kernel.runner.call(cart.add, user_id, product_id, 1)
        two_hours_ago = utcnow() - datetime.timedelta(hours=2)
        kernel.runner.call(lambda: Cart.update(updated_at=two_hours_ago).where(Cart.user_id == idle).execute())
    finally:
        kernel.close()
    result = run(tmp_path, "orders", "purge-carts", ECOMMERCE_ORDERS_CART_TTL="3600")
    assert result.returncode == 0 and result.stdout.strip() == "deleted 1 idle cart(s)", result.stderr
    again = run(tmp_path, "orders", "purge-carts", ECOMMERCE_ORDERS_CART_TTL="3600")
    assert again.stdout.strip() == "deleted 0 idle cart(s)"
    refused = run(tmp_path, "orders", "purge-carts", ECOMMERCE_ORDERS_CART_TTL="60")
    assert refused.returncode == 2 and "ECOMMERCE_ORDERS_CART_TTL" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_catalog_expire_reservations_command(tmp_path: Path) -> None:
    """A reservation held past its deadline (its checkout died before the order) is released by the command."""
    from ecommerce.kernel.bootstrap import Kernel
    from ecommerce.kernel.clock import utcnow
    from ecommerce.kernel.settings import Settings
    from ecommerce.modules.catalog import api
    from tests.support.catalog import stocked

    kernel = Kernel(Settings.from_env(cli_env(tmp_path)))
    try:
        kernel.migrate()
        product_id, _ = stocked(kernel, 5)
        kernel.runner.call(api.reserve, "orphan", [(product_id, 2)], hold_until=utcnow())
        kernel.runner.call(api.reserve, "live", [(product_id, 1)],
                           hold_until=utcnow() + datetime.timedelta(hours=1))
    finally:
        kernel.close()
    result = run(tmp_path, "catalog", "expire-reservations")
    assert result.returncode == 0 and result.stdout.strip() == "expired 1 reservation(s)", result.stderr
    again = run(tmp_path, "catalog", "expire-reservations")
    assert again.stdout.strip() == "expired 0 reservation(s)"


def test_payments_commands(tmp_path: Path) -> None:
    reconciled = run(tmp_path, "payments", "reconcile")
    assert reconciled.returncode == 0 and "reconciled: 0 succeeded, 0 failed" in reconciled.stdout
    rotated = run(tmp_path, "payments", "rotate-keys", "--drop-old")
    assert rotated.returncode == 0 and "re-encrypted 0 card(s)" in rotated.stdout
    assert "old keys removed" in rotated.stdout
    import json

    ring = json.loads((tmp_path / "data" / "payment-keys.json").read_text())
    assert list(ring["keys"]) == [ring["active"]]
    assert oct((tmp_path / "data" / "payment-keys.json").stat().st_mode & 0o777) == "0o600"
    bad = run(tmp_path, "payments", "reconcile", ECOMMERCE_PAYMENT_KEYS="k1:not-base64!")
    assert bad.returncode == 2 and "ECOMMERCE_PAYMENT_KEYS" in bad.stderr and "Traceback" not in bad.stderr


def test_search_reindex_command(tmp_path: Path) -> None:
    assert run(tmp_path, "seed").returncode == 0
    result = run(tmp_path, "search", "reindex")
    assert result.returncode == 0 and result.stdout.strip() == "indexed 280 product(s)"


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_serve_with_workers_stopped_as_soon_as_it_answers_ends_at_once(tmp_path: Path, how: signal.Signals) -> None:
    """Stopped before every worker has told Sanic's manager it started, ``serve --workers 2`` used to wait
    out the manager's 30 s start-up threshold before exiting (``ecommerce/kernel/http/workers.py``)."""
    with server_process(tmp_path, cli_env(tmp_path), "--workers", "2", stop=how) as (proc, _):
        proc.send_signal(how)  # the first answer came from one worker; the others may still be starting
        try:
            code = proc.wait(timeout=15)  # far below the 30 s it took; a hang fails here, not in end()
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve --workers 2 still running 15 s after {how.name}")
    assert code == 0, f"{how.name}: exit status {code}"
