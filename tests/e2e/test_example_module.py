"""The example module of CONTRIBUTING.md (``examples/wishlist``) works end to end, so the guide that
walks through it cannot rot: registration through the entry point it declares, its migration, its
routes over real HTTP, its event publishing, its reaction to a catalog event, and its facade."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.errors import Conflict
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings
from ecommerce.modules.catalog import products
from tests.support.api import assert_problem, bearer, login
from tests.support.catalog import product
from tests.support.polling import eventually
from tests.support.processes import cli_env, serving

#: Events cross modules here: these tests also run with the RabbitMQ transport.
pytestmark = pytest.mark.events

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "wishlist"


@pytest.fixture(scope="module")
def wishlist() -> Iterator[ModuleType]:
    sys.path.insert(0, str(EXAMPLE))
    try:
        yield importlib.import_module("ecommerce_wishlist")
    finally:
        sys.path.remove(str(EXAMPLE))


def installed(tmp_path: Path) -> dict[str, str]:
    """What ``pip install examples/wishlist`` leaves on the path: the package and its metadata with the
    entry point read from the example's own pyproject.toml (the guide's registration step)."""
    site = tmp_path / "site"
    info = site / "ecommerce_wishlist-0.1.0.dist-info"
    info.mkdir(parents=True)
    (site / "ecommerce_wishlist").symlink_to(EXAMPLE / "ecommerce_wishlist")
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    lines = [f"{name} = {target}" for name, target in project["entry-points"]["ecommerce.modules"].items()]
    (info / "entry_points.txt").write_text("[ecommerce.modules]\n" + "\n".join(lines) + "\n")
    return {"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def test_the_module_plugs_in_through_its_entry_point(tmp_path: Path) -> None:
    shown = subprocess.run([sys.executable, "-m", "ecommerce", "modules"], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path, env=cli_env(tmp_path, **installed(tmp_path)))
    assert shown.returncode == 0, shown.stderr
    block = shown.stdout[shown.stdout.index("wishlist (enabled)"):]
    assert "tables:    wishes" in block
    assert "publishes: wishlist.ProductWished.v1" in block
    assert "consumes:  catalog.ProductDeleted.v1" in block
    assert "PUT /api/v1/wishlist/<product_id:int>" in block


def test_the_module_over_http(tmp_path: Path) -> None:
    with serving(tmp_path, "--demo", ECOMMERCE_RELAY_INTERVAL="0.2", **installed(tmp_path)) as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        customer = bearer(login(client, "customer@example.com", "customer-password-123")["access_token"])
        admin = bearer(login(client, "admin@example.com", "admin-password-123")["access_token"])
        assert client.get("/api/v1/wishlist").status_code == 401

        first = client.put("/api/v1/wishlist/1", json={"note": "for the kitchen"}, headers=customer)
        assert first.status_code == 201, first.text
        again = client.put("/api/v1/wishlist/1", json={}, headers=customer)
        assert again.status_code == 200 and again.json() == first.json()
        item = first.json()["items"][0]
        assert item["product_id"] == 1 and item["name"] and item["note"] == "for the kitchen"
        client.put("/api/v1/wishlist/2", json={}, headers=customer)
        assert_problem(client.put("/api/v1/wishlist/999999", json={}, headers=customer), 404)
        assert_problem(client.put("/api/v1/wishlist/2", json={"note": "x" * 201}, headers=customer), 400)
        assert_problem(client.delete("/api/v1/wishlist/3", headers=customer), 404)
        assert "/api/v1/wishlist/{product_id}" in client.get("/docs/openapi.json").json()["paths"]

        # The catalog deletes product 1: its event reaches the wishlist through the outbox and relay.
        assert client.delete("/api/v1/products/1", headers=admin).status_code in (200, 204)
        eventually(lambda: [i["product_id"] for i in client.get("/api/v1/wishlist", headers=customer).json()["items"]]
                   == [2], interval=0.2, what="the wishlist forgetting the deleted product")
        assert client.delete("/api/v1/wishlist/2", headers=customer).json() == {"items": []}


@pytest.fixture
def kernel_with_wishlist(settings: Settings, wishlist: ModuleType) -> Iterator[Kernel]:
    kernel = Kernel(settings, modules={**discover(), "wishlist": wishlist.module})
    kernel.migrate()
    yield kernel
    kernel.close()


def test_facade_events_and_concurrent_wishes(kernel_with_wishlist: Kernel, wishlist: ModuleType) -> None:
    kernel = kernel_with_wishlist
    wishes = importlib.import_module("ecommerce_wishlist.wishes")
    api = importlib.import_module("ecommerce_wishlist.api")
    item = product(kernel)["id"]

    barrier = threading.Barrier(6)
    results: list[bool] = []

    def wish() -> None:
        barrier.wait()
        results.append(kernel.runner.call(wishes.add, 7, item, ""))

    threads = [threading.Thread(target=wish) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]  # one row, one event
    kernel.runner.call(wishes.add, 8, item, "")
    assert kernel.runner.call(api.wished_count, item) == 2
    outbox = wishlist.module.events.Outbox
    assert kernel.runner.call(lambda: outbox.select().count()) == 2

    kernel.runner.call(products.delete, item)
    kernel.relay_until_idle()
    kernel.relay_until_idle()  # a second pass delivers nothing new
    assert kernel.runner.call(api.wished_count, item) == 0


def test_the_module_reads_its_own_setting(settings: Settings, wishlist: ModuleType) -> None:
    """``max_items`` is the wishlist's own setting (its ``settings.py``), given here the supported way for
    code (``module_settings``); the kernel hands it to the module's setup."""
    kernel = Kernel(settings.replace(module_settings={"wishlist": {"max_items": 2}}),
                    modules={**discover(), "wishlist": wishlist.module})
    try:
        kernel.migrate()
        wishes = importlib.import_module("ecommerce_wishlist.wishes")
        first, second, third = (product(kernel)["id"] for _ in range(3))
        assert kernel.module_settings["wishlist"].max_items == 2
        assert kernel.runner.call(wishes.add, 9, first, "") and kernel.runner.call(wishes.add, 9, second, "")
        assert kernel.runner.call(wishes.add, 9, second, "") is False  # already there: no limit reached
        with pytest.raises(Conflict, match="at most 2 products"):
            kernel.runner.call(wishes.add, 9, third, "")
        assert [i["product_id"] for i in kernel.runner.call(wishes.wishes, 9)["items"]] == [first, second]
        assert kernel.runner.call(wishes.add, 10, third, "")  # another user's list is its own
    finally:
        kernel.close()


def test_a_bad_setting_of_the_module_stops_the_start(tmp_path: Path) -> None:
    env = cli_env(tmp_path, ECOMMERCE_WISHLIST_MAX_ITEMS="lots", **installed(tmp_path))
    shown = subprocess.run([sys.executable, "-m", "ecommerce", "config"], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path, env=env)
    assert shown.returncode == 2
    assert shown.stderr.strip() == \
        "ecommerce: configuration error: ECOMMERCE_WISHLIST_MAX_ITEMS: 'lots' is not a valid int"
    env["ECOMMERCE_WISHLIST_MAX_ITEMS"] = "20"
    shown = subprocess.run([sys.executable, "-m", "ecommerce", "config"], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "[wishlist]\nmax_items = 20" in shown.stdout and "ECOMMERCE_WISHLIST_MAX_ITEMS" in shown.stdout
