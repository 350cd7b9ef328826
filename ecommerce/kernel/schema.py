"""``ApiModel``: the base of every request/response schema, emitting OpenAPI 3.0 compatible JSON Schema.

Why: sanic-ext publishes OpenAPI 3.0.3, whose schema dialect has ``nullable: true`` and a singular
``example``, while pydantic v2 emits JSON Schema 2020-12 (``{"type": "null"}`` in ``anyOf``,
``examples`` lists). Left alone, every optional field makes the published document invalid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict
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
        _singular_examples(result)
        return result


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

    model_config = ConfigDict(extra="ignore")

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


#: A text field that must hold a visible character (the rules strip surrounding whitespace, then refuse "").
VISIBLE = r"\S"


def caseless_choice(codes: Iterable[str]) -> str:
    """A regular expression matching exactly ``codes`` in any letter case (``usd``, ``De``), for fields
    the rules upper-case before checking against a list: JSON Schema has no case-insensitive ``enum``."""
    def caseless(code: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in code)

    return "^(?:" + "|".join(caseless(code) for code in sorted(codes)) + ")$"
