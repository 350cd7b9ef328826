"""A module's own settings: read from ``ECOMMERCE_<MODULE>_<FIELD>``, the config file's ``[<module>]`` table
or, for the names older versions had, the old variables and flat keys, with the kernel's one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecommerce.kernel import module_settings
from ecommerce.kernel.registry import discover
from ecommerce.kernel.settings import Settings, SettingsError
from ecommerce.modules.notifications.settings import NotificationsSettings
from ecommerce.modules.orders.settings import OrdersSettings
from ecommerce.modules.payments.settings import PaymentsSettings


def started(environ: dict[str, str]) -> dict[str, object]:
    """What the start-up check reads for every installed module, from a real environment (and file)."""
    settings = Settings.from_env(environ)
    return module_settings.check(settings, {name: m.settings for name, m in discover().items()})


def orders(environ: dict[str, str]) -> OrdersSettings:
    found = started(environ)["orders"]
    assert isinstance(found, OrdersSettings)
    return found


def config_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "ecommerce.toml"
    path.write_text(text)
    return {"ECOMMERCE_CONFIG": str(path)}


def test_a_bad_variable_is_one_line_naming_it() -> None:
    with pytest.raises(SettingsError) as bad:
        started({"ECOMMERCE_ORDERS_ORDER_TTL": "abc"})
    assert str(bad.value) == "ECOMMERCE_ORDERS_ORDER_TTL: 'abc' is not a valid int"
    with pytest.raises(SettingsError, match=r"^ECOMMERCE_ORDERS_ORDER_TTL: 0 is out of range \(1\.\.2592000\)$"):
        started({"ECOMMERCE_ORDERS_ORDER_TTL": "0"})


def test_a_bad_value_in_the_modules_table_is_one_line_naming_it(tmp_path: Path) -> None:
    env = config_file(tmp_path, '[orders]\norder_ttl = "soon"\n')
    with pytest.raises(SettingsError) as bad:
        started(env)
    assert str(bad.value) == f"{tmp_path / 'ecommerce.toml'}: orders.order_ttl: 'soon' is not a valid int"


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"\[orders\] unknown setting 'order_tll' \(known: order_ttl, cart_ttl\)"):
        started(config_file(tmp_path, "[orders]\norder_tll = 60\n"))
    with pytest.raises(SettingsError, match=r"ecommerce.toml: unknown setting 'ordr_ttl'$"):
        started(config_file(tmp_path, "ordr_ttl = 60\n"))


def test_the_new_name_the_table_and_the_default(tmp_path: Path) -> None:
    assert orders({}).order_ttl == 1800
    assert orders({"ECOMMERCE_ORDERS_ORDER_TTL": "90"}).order_ttl == 90
    assert orders(config_file(tmp_path, "[orders]\norder_ttl = 120\n")).order_ttl == 120
    env = {**config_file(tmp_path, "[orders]\norder_ttl = 120\n"), "ECOMMERCE_ORDERS_ORDER_TTL": "90"}
    assert orders(env).order_ttl == 90  # the environment wins over the file


def test_the_older_names_keep_working(tmp_path: Path) -> None:
    assert orders({"ECOMMERCE_ORDER_TTL": "75"}).order_ttl == 75
    assert orders(config_file(tmp_path, "order_ttl = 65\n")).order_ttl == 65  # the old flat key
    assert orders({"ECOMMERCE_ORDER_TTL": "75", "ECOMMERCE_ORDERS_ORDER_TTL": "90"}).order_ttl == 90
    with pytest.raises(SettingsError, match=r"^ECOMMERCE_ORDER_TTL: 'abc' is not a valid int$"):
        started({"ECOMMERCE_ORDER_TTL": "abc"})
    found = started({"ECOMMERCE_SMTP_HOST": "mail.example.com", "ECOMMERCE_SMTP_STARTTLS": "false",
                     "ECOMMERCE_NOTIFICATION_MAX_ATTEMPTS": "3"})["notifications"]
    assert isinstance(found, NotificationsSettings)
    assert (found.smtp_host, found.smtp_starttls, found.max_attempts, found.smtp_port) == \
        ("mail.example.com", False, 3, 587)
    with pytest.raises(SettingsError, match=r"^ECOMMERCE_PAYMENT_KEYS: each entry is kid:base64 of 32 random bytes$"):
        started({"ECOMMERCE_PAYMENT_KEYS": "k1:not-base64!"})
    keys = "k1:" + "A" * 43 + "="
    payments = started({"ECOMMERCE_PAYMENT_KEYS": keys})["payments"]
    assert isinstance(payments, PaymentsSettings) and payments.keys == keys


def test_values_given_in_code_are_validated_too() -> None:
    settings = Settings(module_settings={"orders": {"order_ttl": 5}})
    assert module_settings.read("orders", OrdersSettings, settings).order_ttl == 5
    with pytest.raises(SettingsError, match=r"^module_settings\['orders'\]\['order_ttl'\]: -1 is out of range"):
        module_settings.read("orders", OrdersSettings, Settings(module_settings={"orders": {"order_ttl": -1}}))
    with pytest.raises(SettingsError, match=r"unknown setting 'ttl'"):
        module_settings.read("orders", OrdersSettings, Settings(module_settings={"orders": {"ttl": 5}}))


def test_the_kernel_settings_hold_no_module_knob() -> None:
    kernel_fields = set(Settings.__dataclass_fields__)
    for name in ("order_ttl", "smtp_host", "smtp_password", "notification_retention", "payment_keys",
                 "argon2_time_cost", "refresh_token_ttl", "key_rotation_grace"):
        assert name not in kernel_fields


def test_the_users_settings_keep_their_older_names(tmp_path: Path) -> None:
    from ecommerce.modules.users.settings import UsersSettings

    found = started({"ECOMMERCE_ARGON2_TIME_COST": "3", "ECOMMERCE_USERS_ARGON2_MEMORY_COST": "64",
                     "ECOMMERCE_REFRESH_TOKEN_TTL": "3600"})["users"]
    assert isinstance(found, UsersSettings)
    assert (found.argon2_time_cost, found.argon2_memory_cost, found.refresh_token_ttl) == (3, 64, 3600)
    assert found.key_rotation_grace == 86400
    with pytest.raises(SettingsError, match=r"^ECOMMERCE_KEY_ROTATION_GRACE: 'soon' is not a valid int$"):
        started({"ECOMMERCE_KEY_ROTATION_GRACE": "soon"})
    replaced = Settings(module_settings={"users": {"argon2_time_cost": 1}}).replace(
        module_settings={"users": {"argon2_memory_cost": 8}, "orders": {"order_ttl": 5}})
    assert replaced.module_settings == {"users": {"argon2_time_cost": 1, "argon2_memory_cost": 8},
                                        "orders": {"order_ttl": 5}}  # replace adds to what was there
