"""A shop of several instances for the end-to-end drills: ``ecommerce up`` with a monolith layout of
``instances = N`` on free ports, every instance on one PostgreSQL database (a fresh one, dropped after, or
the one given), nginx in front. Missing PostgreSQL or nginx fails the test in CI, as everywhere."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support import databases, nginx
from tests.support.api import PASSWORD, bearer, new_email
from tests.support.processes import cli_env, free_ports
from tests.support.split import require_postgres
from tests.support.up import Up, running_up

#: Limits no drill reaches by accident (the throttle test sets its own).
UNTHROTTLED = {"ECOMMERCE_RATE_LIMIT": "100000/minute", "ECOMMERCE_USER_RATE_LIMIT": "100000/minute",
               "ECOMMERCE_AUTH_RATE_LIMIT": "100000/minute"}
ADMIN = {"email": "admin@example.com", "password": "admin-password-123"}


@dataclass
class Deployment:
    up: Up
    gateway: str
    instances: list[str]  # each instance's own base URL, instance 1 first
    database_url: str
    data_dir: Path

    def pid_of(self, instance: int) -> int:
        """The process of ``serve --instance N``."""
        return next(pid for pid, cmd in self.up.children().items()
                    if f"--instance {instance}" in cmd and " serve " in f" {cmd} ")

    def kill(self, instance: int) -> None:
        subprocess.run(["kill", f"-{int(signal.SIGKILL)}", str(self.pid_of(instance))], check=True)

    def log(self) -> str:
        return "\n".join(self.up.read())


@contextmanager
def deployment(tmp_path: Path, *, instances: int = 2, database_url: str | None = None,
               **env: str) -> Iterator[Deployment]:
    """``ecommerce up --demo`` on a layout whose one service runs ``instances`` times; yields once ready."""
    require_postgres()
    nginx.binary()
    url = database_url or databases.create_database()
    first = free_ports(instances + 1)  # the instances, then the gateway (which binds last)
    layout = tmp_path / "instances.toml"
    layout.write_text(f'name = "instances"\n[gateway]\naddress = "127.0.0.1:{first + instances}"\n\n[services.app]\n'
                      f'address = "127.0.0.1:{first}"\nmodules = ["*"]\ninstances = {instances}\n')
    settings = {**UNTHROTTLED, "ECOMMERCE_DATABASE_URL": url, "ECOMMERCE_SECRET_KEY": "instances-" + "i" * 40,
                "ECOMMERCE_RELAY_INTERVAL": "0.2", "ECOMMERCE_JOB_INTERVAL": "0.5", **env}
    try:
        with running_up(tmp_path, layout, cli_env(tmp_path, **settings), port=first + instances) as up:
            yield Deployment(up, up.gateway, [f"http://127.0.0.1:{first + n}" for n in range(instances)], url,
                             tmp_path / "data")
    finally:
        if database_url is None:
            databases.drop_database(url)


def shopper(client: httpx.Client, ip: str) -> dict[str, str]:
    """A new customer (registered and signed in from client address ``ip``), as Authorization headers."""
    forwarded = {"X-Forwarded-For": ip}
    email = new_email()
    created = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}, headers=forwarded)
    assert created.status_code == 201, created.text
    tokens = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}, headers=forwarded)
    assert tokens.status_code == 200, tokens.text
    return bearer(tokens.json()["access_token"])


def admin(client: httpx.Client) -> dict[str, str]:
    answer = client.post("/api/v1/auth/login", json=ADMIN, headers={"X-Forwarded-For": "192.0.2.250"})
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])


def product(client: httpx.Client, product_id: int) -> dict[str, Any]:
    answer = client.get(f"/api/v1/products/{product_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body
