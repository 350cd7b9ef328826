"""``ecommerce layout show``, ``serve --layout --service`` and ``gateway nginx`` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import nginx
from tests.support.processes import cli_env


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecommerce", *args], cwd=tmp_path, env=cli_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=120)


def test_layout_show_lists_services_modules_addresses_and_redacted_databases(tmp_path: Path) -> None:
    shown = _cli(tmp_path, "layout", "show", "--layout", "split",
                 ECOMMERCE_LAYOUT_POSTGRES="postgresql://shop:s3cret@db:5432")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "layout split (" in out and "gateway  127.0.0.1:8000  (nginx; default service core)" in out
    assert "events   amqp://guest:***@127.0.0.1:5672/" in out
    assert "service catalog  127.0.0.1:8120" in out
    assert "  recommendations postgresql://shop:***@db:5432/ecommerce_catalog" in out
    assert "s3cret" not in out and "guest:guest" not in out
    monolith = _cli(tmp_path, "layout", "show")  # monolith: the usual settings, one service
    assert "service app  127.0.0.1:8001" in monolith.stdout and "events   in-process (no broker)" in monolith.stdout
    assert f"  users           sqlite:///{tmp_path / 'data' / 'ecommerce.db'}" in monolith.stdout
    twice = _cli(tmp_path, "layout", "show", "--instances", "2")
    assert "service app  127.0.0.1:8001, 127.0.0.1:8002  (2 instances)" in twice.stdout, twice.stdout + twice.stderr


def test_the_shipped_split_layout_runs_two_instances_of_each_service(tmp_path: Path) -> None:
    """Its services' ports are ten apart, so ``--instances 2`` (up to 10) needs no edited copy."""
    shown = _cli(tmp_path, "layout", "show", "--layout", "split", "--instances", "2")
    assert shown.returncode == 0, shown.stderr
    for service, port in (("core", 8110), ("catalog", 8120), ("notifications", 8130)):
        assert f"service {service}  127.0.0.1:{port}, 127.0.0.1:{port + 1}  (2 instances)" in shown.stdout, shown.stdout
    conf = tmp_path / "gateway.conf"
    written = _cli(tmp_path, "gateway", "nginx", "--layout", "split", "--instances", "2", "--output", str(conf))
    assert written.returncode == 0, written.stderr
    text = conf.read_text()
    for service, port in (("core", 8110), ("catalog", 8120), ("notifications", 8130)):
        upstream = text[text.index(f"upstream ecommerce_{service} {{"):]
        upstream = upstream[:upstream.index("}")]
        servers = [line.split()[1] for line in upstream.splitlines() if line.strip().startswith("server ")]
        assert servers == [f"127.0.0.1:{port}", f"127.0.0.1:{port + 1}"], upstream
    checked = nginx.check(conf, tmp_path / "nginx")
    assert checked.returncode == 0, checked.stderr


def test_layout_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[services.app]\naddress = "127.0.0.1:9001"\nmodules = ["users", "basket"]\n')
    tight = tmp_path / "tight.toml"  # consecutive ports: no room for a second instance of core
    tight.write_text('[services.core]\naddress = "127.0.0.1:9001"\nmodules = ["*"]\n'
                     '[services.catalog]\naddress = "127.0.0.1:9002"\nmodules = ["catalog", "search"]\n')
    for args, message in [
        (("gateway", "nginx", "--layout", str(bad)), f"{bad}: services.app.modules: unknown module 'basket'"),
        (("layout", "show", "--layout", "nope"), "--layout: no layout named 'nope'"),
        (("serve", "--layout", "split"), "--layout split: name the service to start with --service"),
        (("serve", "--layout", "split", "--service", "search"), "no service 'search' (services: core, catalog, "),
        (("serve", "--service", "core"), "--service needs --layout"),
        (("serve", "--instance", "2"), "--instance needs --layout"),
        (("serve", "--layout", "monolith", "--instance", "2"),
         "service 'app' has 1 instance(s); there is no instance 2"),
        (("up", "--layout", str(tight), "--instances", "2"),
         f"{tight}: services.catalog.address: 127.0.0.1:9002 is already the address of service 'core' (instance 2)"),
        (("layout", "show", "--layout", "split", "--instances", "11"),
         "services.catalog.address: 127.0.0.1:8120 is already the address of service 'core' (instance 11)"),
        (("gateway", "nginx", "--layout", "split", "--tls-cert", "c.pem"), "--tls-cert and --tls-key go together"),
    ]:
        result = _cli(tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("ecommerce: ")
        assert message in result.stderr, result.stderr


def test_gateway_nginx_writes_a_configuration_nginx_accepts(tmp_path: Path) -> None:
    out = tmp_path / "gateway.conf"
    written = _cli(tmp_path, "gateway", "nginx", "--layout", "split", "--output", str(out), "--port", "8080",
                   ECOMMERCE_MAX_BODY_BYTES="2097152")
    assert written.returncode == 0, written.stderr
    assert f"wrote {out} (layout split, listening on port 8080)" in written.stderr
    text = out.read_text()
    assert text.startswith("# generated by ecommerce gateway nginx — do not edit\n")
    assert "listen 127.0.0.1:8080;" in text and "client_max_body_size 2097152;" in text
    checked = nginx.check(out, tmp_path / "nginx")
    assert checked.returncode == 0, checked.stderr
    several = tmp_path / "instances.conf"
    assert _cli(tmp_path, "gateway", "nginx", "--layout", "monolith", "--instances", "3", "--output",
                str(several)).returncode == 0
    assert all(f"server 127.0.0.1:{port} max_fails=3" in several.read_text() for port in (8001, 8002, 8003))
    assert nginx.check(several, tmp_path / "nginx").returncode == 0
    printed = _cli(tmp_path, "gateway", "nginx", "--layout", "monolith")
    assert printed.returncode == 0 and "upstream ecommerce_app {" in printed.stdout
