"""``ApiModel``: the base of every request/response schema, emitting OpenAPI 3.0 compatible JSON Schema.

Why: sanic-ext publishes OpenAPI 3.0.3, whose schema dialect has ``nullable: true`` and a singular
``example``, while pydantic v2 emits JSON Schema 2020-12 (``{"type": "null"}`` in ``anyOf``,
``examples`` lists). Left alone, every optional field makes the published document invalid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.json_schema import DEFAULT_REF_TEMPLATE, GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import core_schema


class OpenAPI30Schema(GenerateJsonSchema):
    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        inner = self.generate_inner(schema["schema"])
        if "$ref" in inner:
            return {"allOf": [inner], "nullable": True}
        if "enum" in inner and None not in inner["enum"]:
            # OpenAPI 3.0.3: ``nullable`` does not widen an ``enum``; null must be one of its values.
            inner = {**inner, "enum": [*inner["enum"], None]}
        return {**inner, "nullable": True}

    def generate(self, schema: core_schema.CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        result = super().generate(schema, mode)
        _definitions_by_title(result, self.ref_template)
        _singular_examples(result)
        return result


#: What OpenAPI allows as the name of a component.
_COMPONENT_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _definitions_by_title(schema: JsonSchemaValue, ref_template: str) -> None:
    """Key each definition by its title, as a top-level schema is published under it: a class's name,
    unless its config says otherwise (``title=``, the name a dataclass of a facade is published under).
    pydantic keys them by class name whatever the title; a title two definitions share is left alone."""
    definitions = schema.get("$defs", {})
    titles = [d.get("title") for d in definitions.values()]
    renamed = {key: d["title"] for key, d in definitions.items()
               if d.get("title", key) != key and _COMPONENT_NAME.fullmatch(d["title"])
               and titles.count(d["title"]) == 1 and d["title"] not in definitions}
    if renamed:
        schema["$defs"] = {renamed.get(key, key): d for key, d in definitions.items()}
        _replace_refs(schema, {ref_template.format(model=old): ref_template.format(model=new)
                               for old, new in renamed.items()})


def _replace_refs(node: Any, refs: dict[str, str]) -> None:
    if isinstance(node, dict):
        if node.get("$ref") in refs:
            node["$ref"] = refs[node["$ref"]]
        for value in node.values():
            _replace_refs(value, refs)
    elif isinstance(node, list):
        for value in node:
            _replace_refs(value, refs)


def _singular_examples(node: Any) -> None:
    if isinstance(node, dict):
        if "default" in node and node["default"] is None and not node.get("nullable"):
            del node["default"]  # a field that may be left out but not sent as null (PATCH bodies)
        examples = node.pop("examples", None)
        if isinstance(examples, list) and examples:
            node["example"] = examples[0]
        for value in node.values():
            _singular_examples(value)
    elif isinstance(node, list):
        for value in node:
            _singular_examples(value)


class ApiModel(BaseModel):
    """Request and response schemas; unknown request fields are ignored (tolerant reader)."""

    # defer_build: a schema's validator is built the first time it validates or is published, not when its
    # module is imported. A command that never serves HTTP (``migrate``, ``seed``, the module commands) no
    # longer builds the hundred request and response models for nothing; a server builds them at start-up,
    # when it publishes the OpenAPI document.
    model_config = ConfigDict(extra="ignore", defer_build=True)

    @classmethod
    def model_json_schema(  # type: ignore[override]
        cls,
        by_alias: bool = True,
        ref_template: str = DEFAULT_REF_TEMPLATE,
        schema_generator: type[GenerateJsonSchema] = OpenAPI30Schema,
        mode: JsonSchemaMode = "validation",
        **kwargs: Any,
    ) -> dict[str, Any]:
        return super().model_json_schema(
            by_alias=by_alias, ref_template=ref_template, schema_generator=schema_generator, mode=mode, **kwargs
        )


def json_schema(cls: type[Any], ref_template: str = DEFAULT_REF_TEMPLATE) -> dict[str, Any]:
    """The OpenAPI 3.0 schema of a class that is not an :class:`ApiModel` (a facade's frozen dataclass,
    published as it is), from the same generator."""
    return TypeAdapter(cls).json_schema(ref_template=ref_template, schema_generator=OpenAPI30Schema)


#: A text field that must hold a visible character (the rules strip surrounding whitespace, then refuse "").
VISIBLE = r"\S"


def caseless_choice(codes: Iterable[str]) -> str:
    """A regular expression matching exactly ``codes`` in any letter case (``usd``, ``De``), for fields
    the rules upper-case before checking against a list: JSON Schema has no case-insensitive ``enum``."""
    def caseless(code: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in code)

    return "^(?:" + "|".join(caseless(code) for code in sorted(codes)) + ")$"
