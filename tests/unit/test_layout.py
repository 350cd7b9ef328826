"""Deployment layouts: the shipped files load, every mistake is one line naming the file and the key, and a
service maps onto the ordinary settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecommerce.kernel.layout import SHIPPED, LayoutError, load
from ecommerce.kernel.settings import Settings

INSTALLED = ("catalog", "notifications", "orders", "payments", "recommendations", "search", "storefront", "users")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(text)
    return path


def test_the_shipped_layouts_host_every_module_once() -> None:
    monolith = load("monolith", INSTALLED)
    assert list(monolith.services) == ["app"] and monolith.services["app"].modules == INSTALLED
    assert monolith.broker_url is None and monolith.default_service == "app"
    assert all(url is None for url in monolith.services["app"].databases.values())  # the usual settings

    split = load("split", INSTALLED, environ={})
    assert {name: s.modules for name, s in split.services.items()} == {
        "core": ("users", "orders", "payments", "storefront"),
        "catalog": ("catalog", "search", "recommendations"),
        "notifications": ("notifications",),
    }
    assert split.services["catalog"].databases["search"] == "postgresql://postgres@127.0.0.1:5432/ecommerce_catalog"
    assert split.broker_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert [str(s.address) for s in split.services.values()] == ["127.0.0.1:8110", "127.0.0.1:8120", "127.0.0.1:8130"]
    assert split.gateway.port == 8000
    assert load(SHIPPED / "split.toml", INSTALLED).path == split.path  # by path too


def test_the_environment_fills_the_split_layout_on_another_machine() -> None:
    split = load("split", INSTALLED, environ={"ECOMMERCE_LAYOUT_POSTGRES": "postgresql://shop:pw@db.internal:5433",
                                              "ECOMMERCE_LAYOUT_BROKER": "amqps://shop:pw@mq.internal/"})
    assert split.services["notifications"].databases["notifications"] == (
        "postgresql://shop:pw@db.internal:5433/ecommerce_notifications")
    assert split.broker_url == "amqps://shop:pw@mq.internal/"


GOOD_SERVICE = '[services.app]\naddress = "127.0.0.1:9001"\nmodules = ["*"]\n'


@pytest.mark.parametrize(("text", "message"), [
    ('[services.a]\naddress = "127.0.0.1:9001"\nmodules = ["*", "wishlist"]\n',
     "services.a.modules: unknown module 'wishlist' (installed: catalog, "),
    ('[services.a]\naddress = "127.0.0.1:9001"\nmodules = ["*"]\n'
     '[services.b]\naddress = "127.0.0.1:9002"\nmodules = ["users"]\n',
     None),  # '*' takes what no other service hosts: valid
    ('[services.a]\naddress = "127.0.0.1:9001"\nmodules = ["users", "catalog"]\n'
     '[services.b]\naddress = "127.0.0.1:9002"\nmodules = ["*", "users"]\n',
     "services.b.modules: module 'users' is already hosted by service 'a'"),
    ('[services.a]\naddress = "127.0.0.1:9001"\nmodules = ["users", "catalog"]\n',
     "services: module(s) notifications, orders, payments, recommendations, search, storefront hosted by no service"),
    ('[services.a]\naddress = "localhost"\nmodules = ["*"]\n',
     "services.a.address: 'localhost' is not host:port"),
    ('[services.a]\naddress = "127.0.0.1:99999"\nmodules = ["*"]\n',
     "services.a.address: '127.0.0.1:99999' is not host:port"),
    ('[services.a]\naddress = "127.0.0.1:http"\nmodules = ["*"]\n',
     "services.a.address: '127.0.0.1:http' is not host:port"),
    ('[services.a]\nmodules = ["*"]\n', "services.a.address: needs an address"),
    ('[gateway]\naddress = "127.0.0.1:9001"\n' + GOOD_SERVICE,
     "gateway.address: 127.0.0.1:9001 is also the address of service 'app'"),
    ('[services.a]\naddress = "127.0.0.1:9001"\nmodules = ["users"]\n'
     '[services.b]\naddress = "127.0.0.1:9001"\nmodules = ["*"]\n',
     "services.b.address: 127.0.0.1:9001 is already the address of service 'a'"),
    (GOOD_SERVICE + "instances = 0\n", "services.app.instances: must be a whole number from 1 to 64"),
    (GOOD_SERVICE + 'instances = "2"\n', "services.app.instances: must be a whole number from 1 to 64"),
    (GOOD_SERVICE + "instances = true\n", "services.app.instances: must be a whole number from 1 to 64"),
    ('[gateway]\naddress = "127.0.0.1:9002"\n' + GOOD_SERVICE + "instances = 2\n",
     "gateway.address: 127.0.0.1:9002 is also the address of service 'app' (instance 2)"),
    ('[services.a]\naddress = "127.0.0.1:9001"\nmodules = ["users"]\ninstances = 3\n'
     '[services.b]\naddress = "127.0.0.1:9003"\nmodules = ["*"]\n',
     "services.b.address: 127.0.0.1:9003 is already the address of service 'a' (instance 3)"),
    ('[services.a]\naddress = "127.0.0.1:65535"\nmodules = ["*"]\ninstances = 2\n',
     "services.a.instances: instance 2 would listen on port 65536"),
    ('[gateway]\ndefault = "shop"\n' + GOOD_SERVICE, "gateway.default: unknown service 'shop' (services: app)"),
    ('[gateway]\nport = 8000\n' + GOOD_SERVICE, "gateway.port: unknown key (expected: address, default)"),
    (GOOD_SERVICE + 'color = "blue"\n', "services.app.color: unknown key"),
    ('[services.gateway]\naddress = "127.0.0.1:9001"\nmodules = ["*"]\n', "services.gateway: 'gateway' is the nginx"),
    ('[services.a]\naddress = "127.0.0.1:9001"\nmodules = []\n', "services.a.modules: must be a non-empty list"),
    ("", "services: a layout needs at least one [services.NAME] table"),
    ("[services\n", "not valid TOML"),
    ('[databases]\ndefault = "mysql://x/y"\n' + GOOD_SERVICE, "databases.default: unsupported database URL"),
    ('[databases]\ndefault = "${NO_SUCH_VARIABLE_HERE}/db"\n' + GOOD_SERVICE,
     "databases.default: ${NO_SUCH_VARIABLE_HERE} is not set"),
    (GOOD_SERVICE + 'databases = { wishlist = "sqlite:///w.db" }\n',
     "services.app.databases.wishlist: service 'app' does not host module 'wishlist'"),
    ('[events]\nbroker = "redis://localhost"\n' + GOOD_SERVICE, "events.broker: 'redis://localhost' is not an amqp://"),
])
def test_a_mistake_is_one_line_naming_the_file_and_key(tmp_path: Path, text: str, message: str | None) -> None:
    path = _write(tmp_path, text)
    if message is None:
        assert load(path, INSTALLED, environ={}).services
        return
    with pytest.raises(LayoutError) as caught:
        load(path, INSTALLED, environ={})
    line = str(caught.value)
    assert "\n" not in line and line.startswith(f"{path}: ")
    assert message in line, line


def test_unknown_layouts_and_services_say_what_exists(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"no layout named 'splitt' \(shipped: monolith, split;"):
        load("splitt", INSTALLED)
    with pytest.raises(LayoutError, match=r"file '.*missing.toml' does not exist"):
        load(tmp_path / "missing.toml", INSTALLED)
    split = load("split", INSTALLED, environ={})
    with pytest.raises(LayoutError, match=r"split.toml: no service .search. \(services: core, catalog, notif"):
        split.settings_for("search", Settings())


def test_disabled_modules_need_no_host(tmp_path: Path) -> None:
    path = _write(tmp_path, '[services.a]\naddress = "127.0.0.1:9001"\nmodules = ["users", "catalog", "search"]\n')
    layout = load(path, INSTALLED, disabled=("notifications", "orders", "payments", "recommendations",
                                                      "storefront"))
    assert layout.services["a"].modules == ("users", "catalog", "search")


def test_a_service_becomes_the_settings_serve_runs(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[events]
broker = "amqp://guest:guest@127.0.0.1:5672/"
[databases]
default = "sqlite:///{service}-{module}.db"
[services.accounts]
address = "0.0.0.0:9101"
modules = ["users"]
databases = { users = "postgresql://u:p@db:5432/accounts" }
[services.shop]
address = "127.0.0.1:9102"
modules = ["catalog", "search"]
""")
    base = Settings(disabled_modules=("notifications", "orders", "payments", "recommendations", "storefront"),
                    module_database_urls={"catalog": "sqlite:///env.db"})
    layout = load(path, INSTALLED, disabled=base.disabled_modules)
    shop = layout.settings_for("shop", base)
    assert shop.modules == ("catalog", "search") and (shop.host, shop.port) == ("127.0.0.1", 9102)
    assert shop.database_url_for("catalog") == "sqlite:///shop-catalog.db"  # the layout wins over the environment
    assert shop.database_url_for("search") == "sqlite:///shop-search.db"
    assert shop.event_broker_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert not shop.module_enabled("users")  # hosted by another service: reached remotely
    accounts = layout.settings_for("accounts", base)
    assert accounts.modules == ("users",) and accounts.host == "0.0.0.0"
    assert accounts.database_url_for("users") == "postgresql://u:p@db:5432/accounts"


def test_a_split_service_reaches_the_modules_of_the_others_through_remote_facades() -> None:
    split = load("split", INSTALLED, environ={})
    core = split.settings_for("core", Settings())
    assert core.service_name == "core" and core.modules == ("users", "orders", "payments", "storefront")
    assert core.remote_modules["catalog"] == "catalog@http://127.0.0.1:8120"
    assert core.remote_modules["notifications"] == "notifications@http://127.0.0.1:8130"
    assert set(core.remote_modules).isdisjoint(core.modules)
    catalog = split.settings_for("catalog", Settings())
    assert catalog.remote_modules["users"] == "core@http://127.0.0.1:8110" and "catalog" not in catalog.remote_modules


def test_instances_listen_on_consecutive_ports(tmp_path: Path) -> None:
    layout = load(_write(tmp_path, GOOD_SERVICE + "instances = 3\n"), INSTALLED)
    app = layout.services["app"]
    assert app.instances == 3 and [str(a) for a in app.addresses] == [
        "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"]
    base = Settings(data_dir=tmp_path)
    assert layout.settings_for("app", base, 3).port == 9003 and layout.settings_for("app", base).port == 9001
    with pytest.raises(LayoutError, match="service 'app' has 3 instance\\(s\\); there is no instance 4"):
        layout.settings_for("app", base, 4)
    # `--instances N` overrides the file, and is checked the same way.
    assert load("monolith", INSTALLED).with_instances(2).services["app"].addresses[1].port == 8002
    # A layout whose services' ports are consecutive has no room for a second instance: refused, naming the clash.
    tight = load(_write(tmp_path, '[services.core]\naddress = "127.0.0.1:9001"\nmodules = ["*"]\n'
                                  '[services.catalog]\naddress = "127.0.0.1:9002"\nmodules = ["catalog"]\n'), INSTALLED)
    with pytest.raises(LayoutError, match=r"services\.catalog\.address: 127\.0\.0\.1:9002 is already the address of "
                                          r"service 'core' \(instance 2\)"):
        tight.with_instances(2)
    with pytest.raises(LayoutError, match="--instances: 0 is not between 1 and 64"):
        layout.with_instances(0)


def test_the_shipped_split_layout_has_room_for_ten_instances_of_each_service() -> None:
    split = load("split", INSTALLED, environ={})
    two = split.with_instances(2)
    assert {name: [str(a) for a in s.addresses] for name, s in two.services.items()} == {
        "core": ["127.0.0.1:8110", "127.0.0.1:8111"],
        "catalog": ["127.0.0.1:8120", "127.0.0.1:8121"],
        "notifications": ["127.0.0.1:8130", "127.0.0.1:8131"],
    }
    assert two.settings_for("core", Settings()).remote_modules["catalog"] == (
        "catalog@http://127.0.0.1:8120|http://127.0.0.1:8121")
    assert [a.port for a in split.with_instances(10).services["notifications"].addresses][-1] == 8139
    with pytest.raises(LayoutError, match=r"services\.catalog\.address: 127\.0\.0\.1:8120 is already the address of "
                                          r"service 'core' \(instance 11\)"):
        split.with_instances(11)


def test_a_service_of_several_instances_is_called_at_every_instance(tmp_path: Path) -> None:
    layout = load(_write(tmp_path, '[services.core]\naddress = "127.0.0.1:9001"\nmodules = ["*"]\n'
                                   '[services.catalog]\naddress = "127.0.0.1:9011"\nmodules = ["catalog"]\n'
                                   'instances = 2\n'), INSTALLED)
    core = layout.settings_for("core", Settings(data_dir=tmp_path))
    assert core.remote_modules["catalog"] == "catalog@http://127.0.0.1:9011|http://127.0.0.1:9012"
