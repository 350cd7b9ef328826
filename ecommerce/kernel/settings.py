"""Settings: read once from ``ECOMMERCE_*`` variables and an optional TOML file, validated up front.

Why validate here: a bad value must stop the process at start-up with one line that names the variable
(exit status 2), never as a traceback from deep inside a request hours later.
Precedence: environment variable > config file (``ECOMMERCE_CONFIG``) > default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFIX = "ECOMMERCE_"
MODULE_URL_PREFIX = f"{PREFIX}DATABASE_URL_"
MODULE_REPLICA_PREFIX = f"{PREFIX}DATABASE_REPLICA_URL_"
ENVIRONMENTS = ("development", "test", "production")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")


class SettingsError(Exception):
    """A configuration value is wrong; ``str(error)`` is the one line shown to the user."""


@dataclass(frozen=True)
class Settings:
    """Every knob of the application. Build with :meth:`from_env`; tests build it directly."""

    env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    database_url: str | None = None
    module_database_urls: Mapping[str, str] = field(default_factory=dict)
    #: Read replicas (PostgreSQL streaming standbys): for every module, or per module (``_<MODULE>``).
    database_replica_url: str | None = None
    module_replica_urls: Mapping[str, str] = field(default_factory=dict)
    #: A replica further behind its primary than this many seconds is skipped (reads go to the primary).
    replica_max_lag: float = 5.0
    #: After a user's write, that user's replica reads stay on the primary for this many seconds.
    read_your_writes: float = 5.0
    modules: tuple[str, ...] | None = None
    disabled_modules: tuple[str, ...] = ()
    secret_key: str | None = None
    jwt_issuer: str = "ecommerce"
    jwt_audience: str = "ecommerce-api"
    access_token_ttl: int = 15 * 60
    token_leeway: int = 30
    session_check_ttl: float = 5.0  # seconds a token that passed the session checks is trusted from memory
    db_pool_size: int = 8
    db_pool_timeout: float = 10.0
    sqlite_busy_timeout: float = 10.0
    # As many use-case threads as connections per module pool: a use case keeps one connection per module
    # it touches until it ends, so more threads than connections can wait on each other (32 threads on
    # pools of 8: checkouts timed out with 500s). 8 rather than 16: reads lose less to the GIL (uncached
    # product 2.0k req/s with 4 threads, 1.8k with 16) for fewer checkouts (49/s with 8, 75/s with 16;
    # benchmarks/http, PostgreSQL, 1 worker, docs/performance/http.md).
    worker_threads: int = 8
    max_body_bytes: int = 1024 * 1024
    redis_url: str | None = None
    rate_limit: str = "300/minute"
    auth_rate_limit: str = "10/minute"
    user_rate_limit: str = "600/minute"
    rate_limit_namespace: str = "ecommerce"
    cache_ttl: int = 60
    job_interval: float = 0.0  # > 0 runs every module job this often instead of its own interval
    trusted_proxies: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    run_relay: bool = True  # the background outbox relay and the modules' periodic jobs
    relay_interval: float = 1.0
    #: While events keep coming, a woken relay waits this long so the next commits' events join its batch.
    relay_linger: float = 0.02
    relay_batch_size: int = 100
    relay_max_attempts: int = 10
    relay_lease_seconds: float = 30.0
    # Integration events over RabbitMQ (amqp://...) instead of in-process; queues and the exchange are
    # named <namespace>.*, so several shops (or test runs) can share one broker.
    event_broker_url: str | None = None
    event_broker_namespace: str = "ecommerce"
    event_retry_base: float = 1.0  # a failed message waits base, 2x base, 4x ... (capped at 5 min)
    event_lake: bool = True  # append every relayed event to the data lake's event log
    event_lake_dir: Path | None = None  # default: <data dir>/lake
    log_level: str = "INFO"
    log_format: str = "json"
    # Remote facades (layouts, issue 16): this process's service name (the issuer of its service tokens),
    # the modules it reaches over HTTP (module -> "service@http://host:port"), and how patiently.
    service_name: str = "app"
    remote_modules: Mapping[str, str] = field(default_factory=dict)
    remote_timeout: float = 2.0
    remote_retries: int = 1
    #: Each module's own settings given in code (tests, scripts): ``{"orders": {"order_ttl": 60}}``; they win
    #: over the environment and the file. Read by ``ecommerce.kernel.module_settings`` with the module's
    #: declared fields and validators: the kernel itself knows no module's settings.
    module_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: The ``ECOMMERCE_*`` variables these settings were read from (``from_env``), for the modules' settings.
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: The config file (``ECOMMERCE_CONFIG``) and what in it is no kernel setting: the ``[<module>]`` tables
    #: and the flat keys older versions had there, both read by the modules' settings.
    config_file: str | None = None
    config_rest: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # A script may pass data_dir as a string; everything downstream expects a Path.
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.event_lake_dir is not None:
            object.__setattr__(self, "event_lake_dir", Path(self.event_lake_dir))

    @property
    def lake_dir(self) -> Path:
        """Where the data lake lives (``ECOMMERCE_EVENT_LAKE_DIR``, else ``<data dir>/lake``)."""
        return self.event_lake_dir if self.event_lake_dir is not None else self.data_dir / "lake"

    def database_url_for(self, module: str) -> str:
        """The URL a module's tables live in: its own override, else the shared URL, else the SQLite file.

        ``{module}`` in a URL is replaced by the module name, so one variable can give every module
        its own SQLite file (``sqlite:///data/{module}.db``).
        """
        url = self.module_database_urls.get(module) or self.database_url
        if url is None:
            url = f"sqlite:///{self.data_dir / 'ecommerce.db'}"
        return url.replace("{module}", module)

    def replica_url_for(self, module: str) -> str | None:
        """The read replica of a module's database, if one is configured (``{module}`` as above)."""
        url = self.module_replica_urls.get(module) or self.database_replica_url
        return url.replace("{module}", module) if url else None

    def module_enabled(self, name: str) -> bool:
        """Enabled unless disabled, or unless an explicit list exists that does not name it."""
        if name in self.disabled_modules:
            return False
        return self.modules is None or name in self.modules

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests and the CLI use this). ``module_settings`` changes only the
        settings it names: ``replace(module_settings={"orders": {"order_ttl": 5}})`` keeps the others."""
        if "module_settings" in changes:
            merged = {module: dict(values) for module, values in self.module_settings.items()}
            for module, values in changes["module_settings"].items():
                merged[module] = {**merged.get(module, {}), **values}
            changes["module_settings"] = merged
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate settings; raise :class:`SettingsError` naming the first bad variable."""
        env = dict(os.environ if environ is None else environ)
        raw: dict[str, Any] = {}
        config_path = env.get(f"{PREFIX}CONFIG") or None
        rest: dict[str, Any] = {}
        if config_path:
            raw.update(_read_config_file(config_path, rest))
        for spec in _FIELDS:
            name = f"{PREFIX}{spec.key.upper()}"
            if name in env:
                raw[spec.key] = (name, env[name])
        values: dict[str, Any] = {}
        for spec in _FIELDS:
            if spec.key in raw:
                source, value = raw[spec.key]
                values[spec.key] = spec.parse(source, value)
        for key, prefix, table in (("module_database_urls", MODULE_URL_PREFIX, "__module_urls__"),
                                   ("module_replica_urls", MODULE_REPLICA_PREFIX, "__replica_urls__")):
            urls = dict(raw.get(table, {}))
            for name, value in env.items():
                if name.startswith(prefix) and value:
                    urls[name[len(prefix):].lower()] = (name, value)
            parse = _database_url if key == "module_database_urls" else _replica_url
            values[key] = {module: parse(source, url) for module, (source, url) in urls.items()}
        values["environ"] = {name: value for name, value in env.items() if name.startswith(PREFIX)}
        return cls(**values, config_file=config_path, config_rest=rest)


@dataclass(frozen=True)
class _Field:
    key: str
    parse: Callable[[str, Any], Any]


def _read_config_file(path: str, rest: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Flatten a TOML file into ``{key: (where-it-came-from, value)}`` for the same parsers as env vars;
    what is no kernel setting goes to ``rest``, for the modules' settings (which reject what nobody reads)."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{PREFIX}CONFIG: file {path!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{PREFIX}CONFIG: {path!r} is not valid TOML ({exc})") from None
    known = {spec.key for spec in _FIELDS}
    out: dict[str, tuple[str, Any]] = {}
    databases = data.pop("databases", {})
    if not isinstance(databases, dict):
        raise SettingsError(f"{path}: [databases] must be a table of module = url")
    out["__module_urls__"] = {  # type: ignore[assignment]
        str(k): (f"{path}: databases.{k}", v) for k, v in databases.items()
    }
    replica_urls = data.pop("replicas", {})
    if not isinstance(replica_urls, dict):
        raise SettingsError(f"{path}: [replicas] must be a table of module = url")
    out["__replica_urls__"] = {  # type: ignore[assignment]
        str(k): (f"{path}: replicas.{k}", v) for k, v in replica_urls.items()
    }
    for key, value in data.items():
        if key in known:
            out[key] = (f"{path}: {key}", value)
        else:
            rest[key] = value
    return out


def _text(choices: tuple[str, ...] | None = None, upper: bool = False) -> Callable[[str, Any], str]:
    def parse(source: str, value: Any) -> str:
        text = str(value).strip()
        if upper:
            text = text.upper()
        if choices is not None and text not in choices:
            raise SettingsError(f"{source}: {value!r} is not one of {', '.join(choices)}")
        return text

    return parse


def _number(kind: type, minimum: float, maximum: float) -> Callable[[str, Any], Any]:
    def parse(source: str, value: Any) -> Any:
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{source}: {value!r} is not a valid {kind.__name__}") from None
        if not minimum <= number <= maximum:
            raise SettingsError(f"{source}: {number} is out of range ({minimum}..{maximum})")
        return number

    return parse


def _flag(source: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{source}: {value!r} is not a boolean (use true or false)")


def _names(source: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value).split(",")
    names = tuple(str(item).strip().lower() for item in items if str(item).strip())
    for name in names:
        if not name.isidentifier():
            raise SettingsError(f"{source}: {name!r} is not a module name")
    return names


def _path(source: str, value: Any) -> Path:
    text = str(value).strip()
    if not text:
        raise SettingsError(f"{source}: must not be empty")
    return Path(text).expanduser()


def _replica_url(source: str, value: Any) -> str:
    """A replica is a PostgreSQL standby: SQLite has no replication to read from."""
    url = _database_url(source, value)
    if url.startswith("sqlite"):
        raise SettingsError(f"{source}: a read replica must be a PostgreSQL URL (postgresql://user@host:port/db)")
    return url


def _database_url(source: str, value: Any) -> str:
    """Accept ``sqlite:///path`` and ``postgresql://user@host:port/db``; reject anything else clearly."""
    url = str(value).strip()
    parts = urlsplit(url)
    if parts.scheme not in DATABASE_SCHEMES:
        raise SettingsError(
            f"{source}: unsupported database URL {url!r} "
            "(expected sqlite:///path/to/file.db or postgresql://user@host:port/dbname)"
        )
    if parts.scheme == "sqlite" and not parts.path.lstrip("/"):
        raise SettingsError(f"{source}: a sqlite URL needs a file path, e.g. sqlite:///data/ecommerce.db")
    if parts.scheme != "sqlite":
        if not parts.path.strip("/"):
            raise SettingsError(f"{source}: a PostgreSQL URL needs a database name")
        try:
            parts.port  # noqa: B018 - evaluating it validates the port
        except ValueError:
            raise SettingsError(f"{source}: the port in {url!r} is not a number") from None
    return url


def _rate(source: str, value: Any) -> str:
    """A ``limits`` rate string such as ``10/minute`` or ``100 per hour;1000/day``."""
    from limits import parse_many

    text = str(value).strip()
    try:
        parse_many(text)
    except ValueError:
        raise SettingsError(f"{source}: {value!r} is not a rate such as 10/minute") from None
    return text


def _networks(source: str, value: Any) -> tuple[str, ...]:
    import ipaddress

    items = value if isinstance(value, list) else str(value).split(",")
    out = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"{source}: {item!r} is not an IP address or network") from None
    return tuple(out)


def _origins(source: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value).split(",")
    out = []
    for item in (str(i).strip().rstrip("/") for i in items):
        if not item:
            continue
        parts = urlsplit(item)
        if item != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
            raise SettingsError(f"{source}: {item!r} is not an origin such as https://shop.example.com")
        out.append(item)
    return tuple(out)


def _redis_url(source: str, value: Any) -> str:
    url = str(value).strip()
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise SettingsError(f"{source}: {url!r} is not a redis:// or rediss:// URL")
    return url


def _amqp_url(source: str, value: Any) -> str:
    url = str(value).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
        raise SettingsError(f"{source}: {url!r} is not an amqp:// or amqps:// URL (amqp://user:pass@host:5672/)")
    return url


def _namespace(source: str, value: Any) -> str:
    import re

    text = str(value).strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", text):
        raise SettingsError(f"{source}: {text!r} must be lower-case letters, digits, '_', '.' or '-' (at most 64)")
    return text


def _secret(source: str, value: Any) -> str:
    text = str(value)
    if len(text) < 32:
        raise SettingsError(f"{source}: must be at least 32 characters (use `openssl rand -hex 32`)")
    return text


def _remotes(source: str, value: Any) -> dict[str, str]:
    """``catalog=catalog@http://127.0.0.1:8102,search=catalog@http://127.0.0.1:8102``: where each remote
    module's service listens, its instances separated by ``|`` (a layout fills this in; the variable exists
    for deployments without one)."""
    if isinstance(value, dict):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
        pairs = []
        for item in filter(None, (part.strip() for part in str(value).split(","))):
            module, sep, target = item.partition("=")
            if not sep:
                raise SettingsError(f"{source}: {item!r} is not module=service@http://host:port")
            pairs.append((module.strip(), target.strip()))
    out: dict[str, str] = {}
    for module, target in pairs:
        service, at, urls = target.partition("@")
        every = [urlsplit(url.strip()) for url in urls.split("|")]  # several instances: http://a|http://b
        if not at or not service or not all(p.scheme in ("http", "https") and p.hostname for p in every):
            raise SettingsError(f"{source}: {module}={target!r} is not service@http://host:port[|http://host:port]")
        out[module] = target
    return out


_FIELDS: tuple[_Field, ...] = (
    _Field("env", _text(ENVIRONMENTS)),
    _Field("host", _text()),
    _Field("port", _number(int, 1, 65535)),
    _Field("data_dir", _path),
    _Field("database_url", _database_url),
    _Field("database_replica_url", _replica_url),
    _Field("replica_max_lag", _number(float, 0, 3600)),
    _Field("read_your_writes", _number(float, 0, 3600)),
    _Field("modules", _names),
    _Field("disabled_modules", _names),
    _Field("secret_key", _secret),
    _Field("jwt_issuer", _text()),
    _Field("jwt_audience", _text()),
    _Field("access_token_ttl", _number(int, 30, 24 * 3600)),
    _Field("token_leeway", _number(int, 0, 300)),
    _Field("session_check_ttl", _number(float, 0, 60)),
    _Field("db_pool_size", _number(int, 1, 500)),
    _Field("db_pool_timeout", _number(float, 0.1, 600)),
    _Field("sqlite_busy_timeout", _number(float, 0, 600)),
    _Field("worker_threads", _number(int, 1, 512)),
    _Field("max_body_bytes", _number(int, 1024, 1024 * 1024 * 1024)),
    _Field("redis_url", _redis_url),
    _Field("rate_limit", _rate),
    _Field("auth_rate_limit", _rate),
    _Field("user_rate_limit", _rate),
    _Field("rate_limit_namespace", _text()),
    _Field("cache_ttl", _number(int, 0, 24 * 3600)),
    _Field("job_interval", _number(float, 0, 24 * 3600)),
    _Field("trusted_proxies", _networks),
    _Field("cors_origins", _origins),
    _Field("run_relay", _flag),
    _Field("relay_interval", _number(float, 0.01, 3600)),
    _Field("relay_linger", _number(float, 0, 1)),
    _Field("relay_batch_size", _number(int, 1, 10_000)),
    _Field("relay_max_attempts", _number(int, 1, 1000)),
    _Field("relay_lease_seconds", _number(float, 0.1, 3600)),
    _Field("event_broker_url", _amqp_url),
    _Field("event_broker_namespace", _namespace),
    _Field("event_retry_base", _number(float, 0.01, 3600)),
    _Field("event_lake", _flag),
    _Field("event_lake_dir", _path),
    _Field("log_level", _text(LOG_LEVELS, upper=True)),
    _Field("log_format", _text(LOG_FORMATS)),
    _Field("service_name", _namespace),
    _Field("remote_modules", _remotes),
    _Field("remote_timeout", _number(float, 0.05, 600)),
    _Field("remote_retries", _number(int, 0, 10)),
)

def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for printing and logs)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


#: Documented variables (README and ``ecommerce config`` list these).
VARIABLES: tuple[str, ...] = tuple(f"{PREFIX}{spec.key.upper()}" for spec in _FIELDS)
