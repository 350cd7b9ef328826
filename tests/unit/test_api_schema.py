"""``ApiModel``'s OpenAPI 3.0 schemas: a facade's dataclass is published under its title, nested or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import with_config

from ecommerce.kernel.http.endpoint import endpoint
from ecommerce.kernel.schema import ApiModel, json_schema

REFS = "#/components/schemas/{model}"


@with_config(title="ThingOut")
@dataclass(frozen=True)
class Thing:
    id: int
    note: str | None


@with_config(title="ThingOut")
@dataclass(frozen=True)
class Other:
    id: int


class ThingPage(ApiModel):
    items: list[Thing]
    next_cursor: str | None


class Both(ApiModel):
    thing: Thing
    other: Other


def test_a_dataclass_is_published_in_the_openapi_30_dialect_under_its_title() -> None:
    schema = json_schema(Thing, ref_template=REFS)
    assert schema["title"] == "ThingOut" and schema["properties"]["note"] == {"nullable": True, "title": "Note",
                                                                              "type": "string"}


def test_a_nested_definition_is_keyed_and_referred_to_by_its_title() -> None:
    schema = ThingPage.model_json_schema(ref_template=REFS)
    assert list(schema["$defs"]) == ["ThingOut"]
    assert schema["properties"]["items"]["items"] == {"$ref": "#/components/schemas/ThingOut"}


def test_a_title_two_definitions_share_keeps_their_own_keys() -> None:
    assert set(Both.model_json_schema(ref_template=REFS)["$defs"]) == {"Thing", "Other"}


def test_only_models_and_dataclasses_are_published() -> None:
    with pytest.raises(TypeError, match="ApiModel or be a dataclass"):
        endpoint(summary="x", tag="x", response=dict)
    body: Any = Thing  # a request is validated with its model: never a dataclass
    with pytest.raises(TypeError, match="must subclass ApiModel"):
        endpoint(summary="x", tag="x", body=body)
