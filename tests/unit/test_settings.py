"""Settings parsing: defaults, precedence, validation messages that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecommerce.kernel.settings import Settings, SettingsError


def test_defaults_need_no_configuration() -> None:
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.database_url_for("users") == "sqlite:///data/ecommerce.db"
    assert settings.access_token_ttl == 900
    assert settings.module_enabled("anything")


def test_values_are_parsed_and_typed(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ECOMMERCE_DATA_DIR": str(tmp_path),
            "ECOMMERCE_ACCESS_TOKEN_TTL": "600",
            "ECOMMERCE_RELAY_INTERVAL": "0.5",
            "ECOMMERCE_RUN_RELAY": "off",
            "ECOMMERCE_LOG_LEVEL": "debug",
            "ECOMMERCE_MODULES": "users, catalog",
            "ECOMMERCE_DISABLED_MODULES": "catalog",
        }
    )
    assert settings.data_dir == tmp_path
    assert settings.database_url_for("users") == f"sqlite:///{tmp_path}/ecommerce.db"
    assert settings.access_token_ttl == 600 and settings.relay_interval == 0.5
    assert settings.run_relay is False and settings.log_level == "DEBUG"
    assert settings.module_enabled("users")
    assert not settings.module_enabled("catalog") and not settings.module_enabled("orders")


def test_per_module_urls_and_the_module_placeholder() -> None:
    settings = Settings.from_env(
        {
            "ECOMMERCE_DATABASE_URL": "sqlite:///db/{module}.db",
            "ECOMMERCE_DATABASE_URL_PAYMENTS": "postgresql://pay@db:5432/payments",
        }
    )
    assert settings.database_url_for("users") == "sqlite:///db/users.db"
    assert settings.database_url_for("payments") == "postgresql://pay@db:5432/payments"


def test_config_file_and_env_precedence(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('access_token_ttl = 300\nrelay_batch_size = 7\n[databases]\ncatalog = "sqlite:///c.db"\n')
    settings = Settings.from_env({"ECOMMERCE_CONFIG": str(path), "ECOMMERCE_ACCESS_TOKEN_TTL": "120"})
    assert settings.access_token_ttl == 120  # environment wins
    assert settings.relay_batch_size == 7
    assert settings.database_url_for("catalog") == "sqlite:///c.db"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"ECOMMERCE_DATABASE_URL": "nonsense://x"}, "ECOMMERCE_DATABASE_URL: unsupported database URL"),
        ({"ECOMMERCE_DATABASE_URL": "sqlite://"}, "ECOMMERCE_DATABASE_URL: a sqlite URL needs a file path"),
        ({"ECOMMERCE_DATABASE_URL": "postgresql://h:port/db"}, "ECOMMERCE_DATABASE_URL: the port"),
        ({"ECOMMERCE_WORKER_THREADS": "0"}, "ECOMMERCE_WORKER_THREADS: 0 is out of range"),
        ({"ECOMMERCE_WORKER_THREADS": "many"}, "ECOMMERCE_WORKER_THREADS: 'many' is not a valid int"),
        ({"ECOMMERCE_LOG_FORMAT": "xml"}, "ECOMMERCE_LOG_FORMAT: 'xml' is not one of json, text"),
        ({"ECOMMERCE_MODULES": "bad-name"}, "ECOMMERCE_MODULES: 'bad-name' is not a module name"),
        ({"ECOMMERCE_DATA_DIR": " "}, "ECOMMERCE_DATA_DIR: must not be empty"),
    ],
)
def test_bad_values_name_the_variable(variables: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(variables)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_unknown_key_in_config_file(tmp_path: Path) -> None:
    """Refused at start-up, once the modules are known (a key may be a module's older flat name)."""
    from ecommerce.kernel import module_settings
    from ecommerce.kernel.registry import discover

    path = tmp_path / "c.toml"
    path.write_text("acces_token_ttl = 300\n")
    settings = Settings.from_env({"ECOMMERCE_CONFIG": str(path)})
    with pytest.raises(SettingsError, match="unknown setting 'acces_token_ttl'"):
        module_settings.check(settings, {name: m.settings for name, m in discover().items()})
