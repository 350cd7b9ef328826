"""The nginx configuration of the split layout: ``nginx -t`` accepts it, and every route of every module
reaches the service that hosts it (a real nginx in front of three stand-in services that answer with
their own name)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ecommerce.gateway.nginx import HEADER, render
from ecommerce.gateway.routes import Route, module_routes
from ecommerce.kernel.layout import SHIPPED, Layout, load
from ecommerce.kernel.registry import discover
from tests.support import nginx
from tests.support.processes import free_port
from tests.support.stand_ins import stand_ins


@contextmanager
def _services(names: list[str]) -> Iterator[dict[str, int]]:
    with stand_ins([(name, 0, False) for name in names]) as servers:
        yield {s.name: s.server_address[1] for s in servers}


def _split_on(tmp_path: Path, ports: dict[str, int], gateway: int) -> Layout:
    text = (SHIPPED / "split.toml").read_text()
    for name, default in (("core", 8110), ("catalog", 8120), ("notifications", 8130)):
        text = text.replace(f'"127.0.0.1:{default}"', f'"127.0.0.1:{ports[name]}"')
    path = tmp_path / "split.toml"
    path.write_text(text.replace('"127.0.0.1:8000"', f'"127.0.0.1:{gateway}"'))
    return load(path, environ={})


def _example(route: Route) -> str:
    """A concrete path for a route pattern."""
    def value(match: re.Match[str]) -> str:
        kind = match.group(1)
        return str(uuid.uuid4()) if kind == "uuid" else "7" if kind == "int" else "tok_abc"

    return re.sub(r"<[^:>]+:?([a-z]*)>", value, route.path)


def _routes(layout: Layout) -> dict[str, list[Route]]:
    installed = discover()
    return {m: module_routes(installed[m]) for s in layout.services.values() for m in s.modules}


def test_the_split_gateway_routes_every_module_to_its_service(tmp_path: Path) -> None:
    with _services(["core", "catalog", "notifications"]) as ports:
        gateway = free_port()
        layout = _split_on(tmp_path, ports, gateway)
        routes = _routes(layout)
        conf = tmp_path / "nginx.conf"
        conf.write_text(render(layout, routes, max_body_bytes=1024 * 1024, layout_source="split"))
        text = conf.read_text()
        assert text.startswith(HEADER + "\n")
        assert text.count("upstream ecommerce_") == 3
        checked = nginx.check(conf, tmp_path / "nginx")
        assert checked.returncode == 0, checked.stderr
        with nginx.running(conf, tmp_path / "nginx", gateway), httpx.Client(
            base_url=f"http://127.0.0.1:{gateway}", timeout=10
        ) as client:
            tried = 0
            for module, module_routes_ in routes.items():
                expected = layout.host_of(module).name
                for route in module_routes_:
                    path = _example(route)
                    answer = client.request(route.method, path)
                    assert answer.status_code == 200, (module, route)
                    assert answer.text == f"{expected} {route.method} {path}", (module, str(route))
                    tried += 1
            assert len(routes) == 8 and tried >= 50  # every route of the 8 modules (storefront: default service)
            # Recommendations' paths inside the catalog's and the users' prefixes reach the catalog service,
            # the rest of those prefixes stays with their owners.
            assert client.get("/api/v1/users/me/recommendations").text.startswith("catalog ")
            assert client.get("/api/v1/users/me").text.startswith("core ")
            # System routes and unknown paths: the default service; never /internal or /metrics.
            for path in ("/docs", "/docs/openapi.json", "/healthz", "/readyz", "/problems/not-found",
                         "/api/v1/unknown"):
                assert client.get(path).text.startswith("core "), path
            for path in ("/internal/catalog/reserve", "/internal", "/metrics", "/metrics/"):
                assert client.get(path).status_code == 404, path


def test_the_port_flag_and_the_body_limit(tmp_path: Path) -> None:
    layout = load("split", environ={})
    text = render(layout, _routes(layout), port=9443, max_body_bytes=65536, layout_source="split")
    assert "listen 127.0.0.1:9443;" in text and "client_max_body_size 65536;" in text
    assert "server 127.0.0.1:8120 max_fails=3 fail_timeout=10s;" in text
    assert "proxy_next_upstream error timeout http_502 http_504;" in text
    # Only keyed POSTs (checkout, payments, refunds: the core service) may go to a second instance.
    assert text.count("non_idempotent") == 1 and "location ^~ /_keyed/ecommerce_core/" in text


def test_a_route_another_module_would_swallow_is_refused() -> None:
    layout = load("split", environ={})
    routes = _routes(layout)
    routes["recommendations"] = [*routes["recommendations"], Route("/api/v1/users/<user_id:int>", "GET")]
    with pytest.raises(ValueError, match=r"cannot tell recommendations's .*users/\[\^/\]\+/\?\$ from users's "
                                         r"/api/v1/users/me"):
        render(layout, routes, max_body_bytes=1024, layout_source="split")
