"""Remote facades without a network: which functions other services may call (and which are retried),
the wire format both ways, and service tokens. The calls themselves: tests/contract/test_*_facade.py."""

from __future__ import annotations

import datetime

import pytest

from ecommerce.kernel.errors import Conflict, FieldError, ServiceUnavailable, ValidationFailed
from ecommerce.kernel.remote import codec, facade
from ecommerce.kernel.remote.facade import REMOTABLES, remotable
from ecommerce.kernel.remote.tokens import ServiceTokens
from ecommerce.kernel.security.tokens import Principal
from ecommerce.modules.catalog import api as catalog
from ecommerce.modules.users import api as users


def test_the_catalog_surface_every_call_safe_to_repeat() -> None:
    surface = {name: spec.idempotent for name, spec in REMOTABLES["catalog"].items()}
    assert surface == {name: True for name in ("snapshot", "documents", "category_ids", "reserve",
                                               "reserve_at_prices", "release", "commit", "restock",
                                               # the storefront's reads and the admin's stock setting
                                               "product", "listing", "categories", "brands", "warehouses",
                                               "set_stock")}
    assert all(getattr(getattr(catalog, name), "remotable", None) is REMOTABLES["catalog"][name] for name in surface)


def test_the_storefront_reads_of_other_services_are_remotable_and_safe_to_repeat() -> None:
    from ecommerce.modules.notifications import api as notifications
    from ecommerce.modules.recommendations import api as recommendations
    from ecommerce.modules.search import api as search

    assert {n: s.idempotent for n, s in REMOTABLES["search"].items()} == {"find": True}
    assert {n: s.idempotent for n, s in REMOTABLES["recommendations"].items()} == {
        "for_product": True, "for_user": True, "popular": True}
    assert {n: s.idempotent for n, s in REMOTABLES["notifications"].items()} == {"recent": True, "unread_count": True}
    assert search.find.remotable is REMOTABLES["search"]["find"]  # type: ignore[attr-defined]
    assert recommendations.popular.remotable is REMOTABLES["recommendations"]["popular"]  # type: ignore[attr-defined]
    assert notifications.recent.remotable is REMOTABLES["notifications"]["recent"]  # type: ignore[attr-defined]


def test_the_users_surface_register_is_never_retried() -> None:
    surface = {name: spec.idempotent for name, spec in REMOTABLES["users"].items()}
    assert surface == {"get_user": True, "find_user": True, "find_users": True, "register": False, "is_active": True,
                       "address_snapshot": True, "authenticate": True}
    assert users.get_user.__name__ == "get_user" and "NotFound" in (users.get_user.__doc__ or "")


def test_marking_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="twice"):
        remotable("catalog", idempotent=True)(catalog.snapshot)


def test_dtos_and_shapes_survive_the_round_trip() -> None:
    moment = datetime.datetime(2026, 12, 4, 18, 0, 1)
    value = {
        7: catalog.ProductSnapshot(7, "Mug", "M-1", 1299, "EUR", 3),
        "lines": [(1, 2), (3, 4)],
        "$odd": None,
        "when": moment,
        "principal": Principal(5, "admin", "sid", "jti", moment),
        "user": users.UserView(5, "ada@example.com", None, "customer", "active", moment),  # also the API's UserOut
    }
    back = codec.decode(codec.encode(value))
    assert back == value and isinstance(back[7], catalog.ProductSnapshot) and back["lines"][0] == (1, 2)
    assert type(back["user"]) is users.UserView


def test_errors_come_back_as_the_same_class_with_the_same_attributes() -> None:
    short = codec.decode_error(codec.encode_error(catalog.InsufficientStock({4: 2, 9: 1})))
    assert type(short) is catalog.InsufficientStock and short.short == {4: 2, 9: 1}
    assert short.status == 409 and short.detail == str(short) and "product 4 (short by 2)" in short.detail
    invalid = codec.decode_error(codec.encode_error(ValidationFailed("bad", errors=[FieldError("a.0", "no")])))
    assert type(invalid) is ValidationFailed and invalid.errors == [FieldError("a.0", "no")]
    unavailable = codec.decode_error(codec.encode_error(ServiceUnavailable("down", retry_after=7)))
    assert isinstance(unavailable, ServiceUnavailable) and unavailable.retry_after == 7
    assert isinstance(codec.decode_error(codec.encode_error(Conflict("x"))), Conflict)


@pytest.mark.parametrize("name", ["os:system", "subprocess:Popen", "builtins:dict", "ecommerce.kernel:nothing"])
def test_only_the_packages_own_dataclasses_are_built(name: str) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode({"$dc": name, "fields": {}})


def test_only_application_errors_are_raised_from_a_payload() -> None:
    with pytest.raises(codec.CodecError, match="not an application error"):
        codec.decode_error({"class": "ecommerce.kernel.settings:Settings", "detail": "x"})


def test_a_remote_module_routes_through_its_adapter_and_back() -> None:
    calls = []

    class Recorder:
        def call(self, spec: facade.Remotable, args: tuple[object, ...], kwargs: dict[str, object]) -> object:
            calls.append((spec.name, args, kwargs))
            return {}

    previous = facade.installed()
    facade.install({**previous, "catalog": Recorder()})
    try:
        assert facade.is_remote("catalog") and catalog.snapshot([1, 2]) == {}
    finally:
        facade.install(previous)
    assert calls == [("snapshot", ([1, 2],), {})] and not facade.is_remote("catalog")


def test_service_tokens_name_their_caller_and_are_for_one_target() -> None:
    core, catalog_service = ServiceTokens("s" * 48, "core"), ServiceTokens("s" * 48, "catalog")
    assert catalog_service.verify(core.issue("catalog")) == "core"
    with pytest.raises(Exception, match="Invalid service token"):
        catalog_service.verify(core.issue("notifications"))


def test_remote_modules_from_the_environment() -> None:
    from ecommerce.kernel.settings import Settings, SettingsError

    settings = Settings.from_env({"ECOMMERCE_REMOTE_MODULES": "catalog=catalog@http://10.0.0.2:8102, users=core@http://h:1",
                                  "ECOMMERCE_SERVICE_NAME": "notifications"})
    assert settings.remote_modules == {"catalog": "catalog@http://10.0.0.2:8102", "users": "core@http://h:1"}
    assert settings.service_name == "notifications"
    two = Settings.from_env({"ECOMMERCE_REMOTE_MODULES": "catalog=catalog@http://h:8102|http://h:8103"})
    assert two.remote_modules == {"catalog": "catalog@http://h:8102|http://h:8103"}  # two instances
    for bad in ("catalog", "catalog=http://h:1", "catalog=core@ftp://h", "catalog=core@http://h:1|ftp://h"):
        with pytest.raises(SettingsError, match="ECOMMERCE_REMOTE_MODULES"):
            Settings.from_env({"ECOMMERCE_REMOTE_MODULES": bad})
