"""A service of several instances behind the generated nginx gateway: requests are balanced, and when an
instance fails mid-request only what may safely be sent twice goes to another instance.

Stand-in instances (``tests/support/stand_ins.py``) answer with their own name; a "dying" one drops each
request unanswered, as a SIGKILLed process does to a request in flight. nginx's passive health checks and
``proxy_next_upstream`` rules are the ones ``ecommerce gateway nginx`` writes (``ecommerce/gateway/nginx.py``).
The same drills on real ``ecommerce`` processes: ``tests/e2e/test_instances.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from ecommerce.gateway.nginx import KEYED, render
from ecommerce.gateway.routes import module_routes
from ecommerce.kernel.layout import Layout, load
from ecommerce.kernel.registry import discover
from tests.support import nginx
from tests.support.processes import free_port, free_ports
from tests.support.stand_ins import StandIn, stand_ins


def _monolith(tmp_path: Path, port: int, gateway: int, instances: int) -> Layout:
    path = tmp_path / "monolith.toml"
    path.write_text(f'name = "monolith"\n[gateway]\naddress = "127.0.0.1:{gateway}"\n\n[services.app]\n'
                    f'address = "127.0.0.1:{port}"\nmodules = ["*"]\ninstances = {instances}\n')
    return load(path, environ={})


@contextmanager
def _gateway(tmp_path: Path, modes: list[str]) -> Iterator[tuple[httpx.Client, list[StandIn]]]:
    """nginx in front of one stand-in instance per mode: "ok", "dying", or "down" (nothing listens)."""
    port, gateway = free_ports(len(modes)), free_port()
    layout = _monolith(tmp_path, port, gateway, len(modes))
    installed = discover()
    routes = {m: module_routes(installed[m]) for m in layout.services["app"].modules}
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(layout, routes, max_body_bytes=1 << 20, layout_source="monolith"))
    specs = [(f"app#{n + 1}", port + n, mode == "dying") for n, mode in enumerate(modes) if mode != "down"]
    with stand_ins(specs) as servers, nginx.running(conf, tmp_path / "nginx", gateway), httpx.Client(
            base_url=f"http://127.0.0.1:{gateway}", timeout=20) as client:
        yield client, servers


def test_the_upstream_lists_every_instance_with_passive_health_checks(tmp_path: Path) -> None:
    layout = _monolith(tmp_path, 9101, 9100, 3)
    text = render(layout, {"orders": module_routes(discover()["orders"])}, max_body_bytes=1024,
                  layout_source="monolith")
    for port in (9101, 9102, 9103):
        assert f"server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;" in text
    assert "proxy_next_upstream_tries 3;" in text
    # non_idempotent appears once, in the location that only keyed POSTs reach.
    assert text.count("non_idempotent") == 1
    assert f"location ^~ {KEYED}/ecommerce_app/ {{\n            internal;" in text


def test_requests_are_balanced_across_the_instances(tmp_path: Path) -> None:
    with _gateway(tmp_path, ["ok", "ok"]) as (client, _):
        names = {client.get("/api/v1/products").text.split()[0] for _ in range(10)}
        assert names == {"app#1", "app#2"}


def test_an_instance_dying_mid_request_loses_only_what_cannot_be_retried(tmp_path: Path) -> None:
    with _gateway(tmp_path, ["dying", "ok"]) as (client, (dying, alive)):
        # A POST without a key (or to a route that ignores keys) is never sent twice: on the dying
        # instance it is a 503, and the live instance never sees it.
        unkeyed = [client.post("/api/v1/cart/items", json={"n": n}, headers={"Idempotency-Key": f"k{n}"})
                   for n in range(2)] + [client.post("/api/v1/orders", json={"n": n}) for n in range(2)]
        lost = [a for a in unkeyed if a.status_code == 503]
        assert lost and all(a.status_code in (200, 503) for a in unkeyed), [a.status_code for a in unkeyed]
        assert len([s for s in alive.seen if s.startswith("POST")]) == len(unkeyed) - len(lost)
        assert all(a.headers["content-type"] == "application/problem+json" for a in lost)
        # A POST carrying its Idempotency-Key to a route that honours one is retried on the live instance,
        # query string and all; so is every GET.
        for n in range(4):
            keyed = client.post(f"/api/v1/orders?try={n}", json={"address_id": 1},
                                headers={"Idempotency-Key": f"order-{n}"})
            assert keyed.status_code == 200 and keyed.text == f"app#2 POST /api/v1/orders?try={n}"
            refund = client.post("/api/v1/payments/9/refunds", headers={"Idempotency-Key": f"refund-{n}"})
            assert refund.text == "app#2 POST /api/v1/payments/9/refunds"
            assert client.get("/api/v1/products/3").text == "app#2 GET /api/v1/products/3"
        assert dying.seen  # the dying instance was really tried
        # The internal retry locations cannot be called from outside.
        assert client.post(f"{KEYED}/ecommerce_app/api/v1/orders").status_code == 404


def test_an_instance_that_refuses_connections_is_routed_around_for_every_request(tmp_path: Path) -> None:
    with _gateway(tmp_path, ["down", "ok"]) as (client, (alive,)):
        # Nothing was sent to the dead instance, so even an unkeyed POST goes to the live one.
        for n in range(4):
            assert client.post("/api/v1/cart/items", json={"n": n}).text == "app#2 POST /api/v1/cart/items"
            assert client.get("/api/v1/products").status_code == 200
        assert len(alive.seen) == 8
