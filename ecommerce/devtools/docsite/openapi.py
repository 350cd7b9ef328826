"""The OpenAPI document, built from the app without serving it, and rendered as Markdown (no Swagger UI,
no JavaScript, nothing from a CDN)."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from ecommerce.kernel.settings import Settings


@cache
def document(disabled_modules: tuple[str, ...] = ()) -> dict[str, Any]:
    """What ``GET /docs/openapi.json`` answers, built the way sanic-ext builds it before serving (also
    what the gateway of a split layout serves: ``ecommerce openapi``)."""
    from sanic_ext.extensions.openapi.builders import SpecificationBuilder

    from ecommerce.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(env="test", data_dir=Path(tmp), secret_key="docs-" + "x" * 40, run_relay=False,
                            log_level="ERROR", disabled_modules=disabled_modules)
        app = create_app(settings=settings, name="ecommerce_docs")
        try:
            app.router.finalize()
            for blueprint in app.blueprints.values():
                for future in blueprint._future_listeners:
                    if future.listener.__name__ == "build_spec":
                        future.listener(app)  # type: ignore[call-arg]
            spec: dict[str, Any] = SpecificationBuilder().build(app).serialize()
        finally:
            app.ctx.kernel.close()
    return spec


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#schema-{name.lower()})"
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items'))}"
    return f"`{schema.get('type', 'object')}`"


def _content_schema(content: dict[str, Any] | None) -> str:
    if not content:
        return ""
    media, body = next(iter(content.items()))
    return f"{_schema_name(body.get('schema'))} ({media})"


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, methods in spec["paths"].items()
            for method, op in methods.items() if isinstance(op, dict)]


def markdown(spec: dict[str, Any]) -> str:
    """Every operation grouped by tag, then every schema."""
    out: list[str] = []
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for method, path, op in operations(spec):
        by_tag.setdefault((op.get("tags") or ["system"])[0], []).append((method, path, op))
    out.append(f"{sum(len(v) for v in by_tag.values())} operations. Errors are "
               "`application/problem+json` ([`Problem`](#schema-problem)). The raw document: "
               "[openapi.json](openapi.json) (also served by the app at `/docs/openapi.json`).\n")
    for tag in sorted(by_tag):
        out.append(f"## {tag}\n")
        for method, path, op in sorted(by_tag[tag], key=lambda o: (o[1], o[0])):
            out.append(f"### `{method} {path}`\n")
            if op.get("summary"):
                out.append(op["summary"] + ("" if op["summary"].endswith(".") else ".") + "\n")
            if op.get("security"):
                out.append("Needs a bearer access token.\n")
            params = op.get("parameters") or []
            if params:
                out.append("| parameter | in | type | required | description |\n|---|---|---|---|---|")
                for p in params:
                    description = (p.get("description") or "").replace("|", "\\|")
                    out.append(f"| `{p['name']}` | {p['in']} | {_schema_name(p.get('schema'))} | "
                               f"{'yes' if p.get('required') else 'no'} | {description} |")
                out.append("")
            body = op.get("requestBody")
            if body:
                out.append(f"Request body: {_content_schema(body.get('content'))}\n")
            out.append("| status | meaning | body |\n|---|---|---|")
            for status, response in sorted(op.get("responses", {}).items()):
                out.append(f"| {status} | {response.get('description', '')} | "
                           f"{_content_schema(response.get('content'))} |")
            out.append("")
    out.append("## Schemas\n")
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        out.append(f'### `{name}` {{#schema-{name.lower()}}}\n')
        properties = schema.get("properties") or {}
        if not properties:
            out.append(f"`{schema.get('type', 'object')}`\n")
            continue
        required = set(schema.get("required") or [])
        out.append("| field | type | required |\n|---|---|---|")
        for field, prop in properties.items():
            kind = _schema_name(prop) if ("$ref" in prop or prop.get("type")) else _any_of(prop)
            out.append(f"| `{field}` | {kind} | {'yes' if field in required else 'no'} |")
        out.append("")
    return "\n".join(out) + "\n"


def _any_of(prop: dict[str, Any]) -> str:
    options = prop.get("anyOf") or prop.get("oneOf") or []
    return " or ".join(_schema_name(o) for o in options) or "`any`"
