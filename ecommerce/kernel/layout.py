"""Deployment layouts: which process (service) hosts which modules, where it listens, where its data lives.

Why a file: carving a module out of the monolith must be a change of deployment, not of code. The same
modules run as one process (``monolith.toml``) or as several services behind the nginx gateway
(``split.toml``); ``ecommerce serve --layout L --service S`` turns one service of a layout into the
ordinary settings (``ECOMMERCE_MODULES``, the module database URLs, host and port, the broker URL).

Validation works like :mod:`ecommerce.kernel.settings`: the first mistake is one line naming the file and
the key (:class:`LayoutError` is a :class:`SettingsError`, so the CLI prints it and exits with status 2).

The format::

    [gateway]
    address = "127.0.0.1:8000"     # where nginx listens
    default = "core"               # answers /docs, /healthz, /readyz, /problems and unknown paths

    [events]
    broker = "amqp://guest:guest@127.0.0.1:5672/"   # absent or "": in-process events

    [databases]
    default = "postgresql://postgres@127.0.0.1:5432/ecommerce_{service}"

    [services.core]
    address = "127.0.0.1:8110"
    modules = ["users", "orders", "payments"]       # "*": every installed module no other service hosts
    instances = 2                                   # optional (default 1): ports 8110, 8111, ... behind nginx
    database = "..."                                # optional: this service's modules
    databases = { users = "..." }                   # optional: one module

URLs may use ``{service}`` and ``{module}``, and ``${VARIABLE}`` or ``${VARIABLE:-default}`` from the
environment, so one file serves a laptop and a deployment.

``instances = N`` (or ``ecommerce up --instances N``) runs N identical processes of a service, instance
``i`` (1..N) on the service's port plus ``i - 1``; the gateway balances across them. They share the
service's databases, so nothing else changes: the relay's claims and the jobs are safe to run in every
instance at once. Two services' ports must leave room for each other's instances (the shipped split puts
them ten apart: 8110, 8120, 8130, so up to 10 instances each); a clash is refused when the layout loads.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ecommerce.kernel.settings import Settings, SettingsError, _amqp_url, _database_url

#: The layouts shipped with the package (``--layout monolith``, ``--layout split``).
SHIPPED = Path(__file__).resolve().parent.parent / "layouts"
WILDCARD = "*"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: The most instances of one service a layout may ask for (ports are consecutive).
MAX_INSTANCES = 64
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class LayoutError(SettingsError):
    """A layout file is wrong; ``str(error)`` names the file and the key."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Service:
    """One process of a layout: the modules it hosts and the database URL of each (None: the default)."""

    name: str
    address: Address
    modules: tuple[str, ...]
    databases: Mapping[str, str | None]
    instances: int = 1

    def instance_address(self, instance: int) -> Address:
        """Where instance ``instance`` (1-based) listens: the service's port plus ``instance - 1``."""
        if not 1 <= instance <= self.instances:
            raise LayoutError(f"service {self.name!r} has {self.instances} instance(s); "
                              f"there is no instance {instance}")
        return Address(self.address.host, self.address.port + instance - 1)

    @property
    def addresses(self) -> tuple[Address, ...]:
        """Every instance's address, in order."""
        return tuple(self.instance_address(i) for i in range(1, self.instances + 1))


@dataclass(frozen=True)
class Layout:
    name: str
    path: Path
    gateway: Address
    default_service: str
    broker_url: str | None
    services: Mapping[str, Service]

    def service(self, name: str) -> Service:
        """The service called ``name``; a :class:`LayoutError` listing the real ones otherwise."""
        if name not in self.services:
            hint = " (the gateway is nginx: `ecommerce gateway nginx`)" if name == "gateway" else ""
            raise LayoutError(
                f"{self.path}: no service {name!r}{hint} (services: {', '.join(self.services)})"
            )
        return self.services[name]

    def host_of(self, module: str) -> Service:
        """The service that hosts ``module``."""
        for service in self.services.values():
            if module in service.modules:
                return service
        raise LayoutError(f"{self.path}: module {module!r} is hosted by no service")

    def with_instances(self, count: int) -> Layout:
        """This layout with every service run as ``count`` instances (``ecommerce up --instances``)."""
        if not 1 <= count <= MAX_INSTANCES:
            raise LayoutError(f"--instances: {count} is not between 1 and {MAX_INSTANCES}")
        services = {name: replace(service, instances=count) for name, service in self.services.items()}
        _check_addresses(self.path, self.gateway, services.values())
        return replace(self, services=services)

    def settings_for(self, name: str, base: Settings, instance: int = 1) -> Settings:
        """``base`` with this service's modules, databases, address and broker: what ``serve`` runs.
        ``instance`` (1-based) picks the instance's port.

        Every module hosted by another service is reached through its remote facade
        (``remote_modules``: module -> ``service@http://address``, see :mod:`ecommerce.kernel.remote`), at
        every instance of that service (``http://a|http://b``).
        """
        service = self.service(name)
        address = service.instance_address(instance)
        urls = dict(base.module_database_urls)
        urls.update({module: url for module, url in service.databases.items() if url is not None})
        remote = {
            module: f"{other.name}@" + "|".join(f"http://{address}" for address in other.addresses)
            for other in self.services.values() if other.name != name
            for module in other.modules
        }
        return base.replace(
            modules=service.modules,
            module_database_urls=urls,
            host=address.host,
            port=address.port,
            event_broker_url=self.broker_url or base.event_broker_url,
            service_name=name,
            remote_modules=remote,
        )


def _check_addresses(path: Path, gateway: Address, services: Iterable[Service]) -> None:
    """No two instances, and no instance and the gateway, on one address (ports past 65535 included)."""
    taken: dict[Address, str] = {}
    for service in services:
        for number, address in enumerate(service.addresses, start=1):
            where = f"service {service.name!r}" + (f" (instance {number})" if service.instances > 1 else "")
            key = f"services.{service.name}.{'instances' if number > 1 else 'address'}"
            if address.port > 65535:
                raise LayoutError(f"{path}: {key}: instance {number} would listen on port {address.port}")
            if address == gateway:
                raise LayoutError(f"{path}: gateway.address: {gateway} is also the address of {where}")
            if address in taken:
                raise LayoutError(f"{path}: {key}: {address} is already the address of {taken[address]}")
            taken[address] = where


def resolve(source: str | Path) -> Path:
    """A layout by shipped name (``split``) or by path (``deploy/shop.toml``)."""
    text = str(source)
    if "/" not in text and not text.endswith(".toml"):
        shipped = SHIPPED / f"{text}.toml"
        if shipped.is_file():
            return shipped
        names = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.toml")))
        raise LayoutError(f"--layout: no layout named {text!r} (shipped: {names}; or give a path to a .toml file)")
    path = Path(text).expanduser()
    if not path.is_file():
        raise LayoutError(f"--layout: file {text!r} does not exist")
    return path


def load(source: str | Path, installed: Iterable[str] | None = None,
         disabled: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Layout:
    """Read and validate a layout. ``installed`` defaults to the modules of the ``ecommerce.modules``
    entry points; every one of them not in ``disabled`` must be hosted exactly once."""
    path = resolve(source)
    if installed is None:
        from ecommerce.kernel.registry import discover

        installed = discover()
    return _Parser(path, sorted(installed), set(disabled), os.environ if environ is None else environ).layout()


class _Parser:
    def __init__(self, path: Path, installed: list[str], disabled: set[str], environ: Mapping[str, str]) -> None:
        self.path, self.installed, self.disabled, self.environ = path, installed, disabled, environ

    def fail(self, key: str, message: str) -> LayoutError:
        return LayoutError(f"{self.path}: {key}: {message}")

    def layout(self) -> Layout:
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise LayoutError(f"{self.path}: not valid TOML ({exc})") from None
        self.known(data, "", {"name", "gateway", "events", "databases", "services"})
        gateway = self.table(data, "gateway")
        events = self.table(data, "events")
        databases = self.table(data, "databases")
        self.known(gateway, "gateway.", {"address", "default"})
        self.known(events, "events.", {"broker"})
        self.known(databases, "databases.", {"default"})
        services_raw = self.table(data, "services")
        if not services_raw:
            raise self.fail("services", "a layout needs at least one [services.NAME] table")
        default_db = self.optional_text(databases, "databases.default")
        services = self.services(services_raw, default_db)
        default = str(gateway.get("default", next(iter(services))))
        if default not in services:
            raise self.fail("gateway.default", f"unknown service {default!r} (services: {', '.join(services)})")
        broker = self.optional_text(events, "events.broker")
        gateway_address = self.address(gateway.get("address", "127.0.0.1:8000"), "gateway.address")
        _check_addresses(self.path, gateway_address, services.values())
        return Layout(
            name=str(data.get("name", self.path.stem)),
            path=self.path,
            gateway=gateway_address,
            default_service=default,
            broker_url=self.checked(_amqp_url, "events.broker", broker) if broker else None,
            services=services,
        )

    def services(self, raw: dict[str, Any], default_db: str | None) -> dict[str, Service]:
        hosted: dict[str, str] = {}
        wildcard: str | None = None
        listed: dict[str, list[str]] = {}
        for name, table in raw.items():
            key = f"services.{name}"
            if not _NAME.match(name):
                raise self.fail(key, "a service name is lower-case letters, digits, '-' or '_'")
            if name == "gateway":
                raise self.fail(key, "'gateway' is the nginx gateway ([gateway]), not a service of modules")
            if not isinstance(table, dict):
                raise self.fail(key, "must be a table")
            self.known(table, f"{key}.", {"address", "modules", "database", "databases", "instances"})
            modules = table.get("modules")
            if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules) or not modules:
                raise self.fail(f"{key}.modules", "must be a non-empty list of module names (or [\"*\"])")
            listed[name] = []
            for module in modules:
                if module == WILDCARD:
                    if wildcard is not None:
                        raise self.fail(f"{key}.modules", f"'*' is already used by service {wildcard!r}")
                    wildcard = name
                    continue
                if module not in self.installed:
                    raise self.fail(f"{key}.modules",
                                    f"unknown module {module!r} (installed: {', '.join(self.installed)})")
                if module in hosted:
                    raise self.fail(f"{key}.modules",
                                    f"module {module!r} is already hosted by service {hosted[module]!r}")
                hosted[module] = name
                listed[name].append(module)
        if wildcard is not None:
            for module in self.installed:
                if module not in hosted and module not in self.disabled:
                    hosted[module] = wildcard
                    listed[wildcard].append(module)
        missing = [m for m in self.installed if m not in hosted and m not in self.disabled]
        if missing:
            raise self.fail("services", f"module(s) {', '.join(missing)} hosted by no service (host each installed "
                                        "module once, or disable it with ECOMMERCE_DISABLED_MODULES)")
        out: dict[str, Service] = {}
        for name, table in raw.items():
            key = f"services.{name}"
            address = self.address(table.get("address"), f"{key}.address")
            instances = table.get("instances", 1)
            if isinstance(instances, bool) or not isinstance(instances, int) or not 1 <= instances <= MAX_INSTANCES:
                raise self.fail(f"{key}.instances", f"must be a whole number from 1 to {MAX_INSTANCES}")
            modules = tuple(m for m in listed[name] if m not in self.disabled)
            out[name] = Service(name, address, modules, self.databases(name, table, modules, default_db), instances)
        return out

    def databases(self, service: str, table: dict[str, Any], modules: tuple[str, ...],
                  default_db: str | None) -> dict[str, str | None]:
        key = f"services.{service}"
        own = self.optional_text(table, f"{key}.database") or default_db
        per_module = table.get("databases", {})
        if not isinstance(per_module, dict):
            raise self.fail(f"{key}.databases", "must be a table of module = url")
        for module in per_module:
            if module not in modules:
                raise self.fail(f"{key}.databases.{module}", f"service {service!r} does not host module {module!r}")
        urls: dict[str, str | None] = {}
        for module in modules:
            raw = per_module.get(module, own)
            where = f"{key}.databases.{module}" if module in per_module else (
                f"{key}.database" if table.get("database") else "databases.default")
            if raw is None:
                urls[module] = None
                continue
            url = self.expand(str(raw), where).replace("{service}", service).replace("{module}", module)
            urls[module] = self.checked(_database_url, where, url)
        return urls

    def checked(self, parse: Callable[[str, Any], str], key: str, value: str) -> str:
        """A value through the settings' own parser, its error as a :class:`LayoutError`."""
        try:
            return parse(f"{self.path}: {key}", value)
        except SettingsError as exc:
            raise LayoutError(str(exc)) from None

    def expand(self, text: str, key: str) -> str:
        """``${VARIABLE}`` and ``${VARIABLE:-default}`` from the environment."""
        def value(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = self.environ.get(name)
            if found:
                return found
            if default is None:
                raise self.fail(key, f"${{{name}}} is not set (write ${{{name}:-default}} for a fallback)")
            return default

        return _VARIABLE.sub(value, text)

    def address(self, raw: Any, key: str) -> Address:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(key, "needs an address such as \"127.0.0.1:8110\"")
        try:
            parts = urlsplit(f"//{raw.strip()}")
            port = parts.port
        except ValueError:
            port = None
            parts = None
        if parts is None or not parts.hostname or port is None or not 1 <= port <= 65535 or parts.path:
            raise self.fail(key, f"{raw!r} is not host:port (e.g. \"127.0.0.1:8110\", port 1..65535)")
        return Address(parts.hostname, port)

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def optional_text(self, table: dict[str, Any], key: str) -> str | None:
        value = table.get(key.rsplit(".", 1)[-1])
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return self.expand(value, key) or None

    def known(self, table: dict[str, Any], prefix: str, keys: set[str]) -> None:
        for key in table:
            if key not in keys:
                raise self.fail(f"{prefix}{key}", f"unknown key (expected: {', '.join(sorted(keys))})")
