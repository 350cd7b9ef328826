"""``@endpoint``: one decorator that documents a route in OpenAPI from the same pydantic models the
handler validates with, so the published contract cannot drift from the code."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from sanic_ext import openapi
from sanic_ext.extensions.openapi.builders import OperationStore, SpecificationBuilder
from sanic_ext.extensions.openapi.definitions import Component
from sanic_ext.extensions.openapi.types import Schema

from ecommerce.kernel.http.auth import admin_only, authenticated
from ecommerce.kernel.http.problems import PROBLEM_JSON
from ecommerce.kernel.schema import ApiModel, json_schema

F = TypeVar("F", bound=Callable[..., Any])


class Problem(ApiModel):
    """RFC 9457 problem details (every error response)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


_ERROR_TEXT = {
    400: "Invalid input",
    401: "Missing, invalid or expired access token",
    403: "Authenticated but not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Idempotency key reused with another body",
    429: "Throttled (see Retry-After)",
}


#: The JSON Schema keywords a query parameter's schema keeps (sanic-ext's Schema drops any other).
_PARAMETER_KEYWORDS = ("type", "format", "minimum", "maximum", "minLength", "maxLength", "pattern", "enum",
                       "default")


def query_parameters(model: type[ApiModel], *, exclude: Sequence[str] = ("limit", "cursor"),
                     descriptions: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The query parameters of ``model`` for ``@endpoint(query=...)``: the published constraints are the
    ones :func:`parse_query` validates with, read from the same model."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    out: list[dict[str, Any]] = []
    for name, prop in schema["properties"].items():
        if name in exclude:
            continue
        fields = {key: prop[key] for key in _PARAMETER_KEYWORDS if prop.get(key) is not None}
        description = (descriptions or {}).get(name) or prop.get("description")
        out.append({"name": name, "location": "query", "required": name in required or None,
                    "schema": Schema(**fields), "description": description})
    return out


#: The check each ``auth`` of :func:`endpoint` puts before the handler.
_GUARDS: dict[str, Callable[[Any], Any]] = {"user": authenticated, "admin": admin_only}


def endpoint(
    *,
    summary: str,
    tag: str,
    body: type[ApiModel] | None = None,
    response: type[Any] | None = None,
    status: int = 200,
    auth: Literal["user", "admin"] | None = None,
    errors: Sequence[int] = (),
    description: str | None = None,
    query: Sequence[dict[str, Any]] = (),
    body_required: bool = True,
) -> Callable[[F], F]:
    """Publish a route, and guard it when it needs a caller: ``auth="user"`` (a valid access token, as
    :func:`~ecommerce.kernel.http.auth.authenticated`) or ``auth="admin"`` (an admin's, as
    :func:`~ecommerce.kernel.http.auth.admin_only`), so the document and the check cannot disagree. The
    error answers that every route of this kind can give are added here, so the document cannot forget
    them: 400 for any input (body, query, headers), 413 for a body, 401 when guarded, 403 for an admin's
    route, 429 always (every ``/api`` request counts against the caller's IP). A ``response`` is an
    :class:`ApiModel` or a dataclass a facade returns (published as it is, under its title)."""
    if body is not None and not issubclass(body, ApiModel):
        raise TypeError(f"{body.__name__} must subclass ApiModel to be published in OpenAPI 3.0")
    if response is not None and not (issubclass(response, ApiModel) or dataclasses.is_dataclass(response)):
        raise TypeError(f"{response.__name__} must subclass ApiModel or be a dataclass to be published in OpenAPI 3.0")

    def decorate(handler: F) -> F:
        if auth is not None:  # the guard runs first, before anything the handler's other decorators do
            handler = _GUARDS[auth](handler)
        codes = sorted(set(errors) | {429} | ({401} if auth else set()) | ({403} if auth == "admin" else set())
                       | ({400, 413} if body else set()) | ({400} if query else set()))
        store = OperationStore()
        operation = store[handler]
        if body:  # sanic-ext moves a route with a body to the end of its store: the tags' order follows it
            store[handler] = store.pop(handler)
        operation.describe(summary=summary, description=description)
        operation.tag(tag)
        if body:
            operation.requestBody = _request_body(body, body_required)
        operation.parameters.extend(_parameter(q) for q in query)
        operation.responses[status] = _response(status, "application/json", response, "Success")
        for code in codes:
            operation.responses[code] = _response(code, PROBLEM_JSON, Problem, _ERROR_TEXT.get(code, "Error"))
        if auth:
            operation.secured({"bearer": []})
        return handler

    return decorate


# sanic-ext builds each definition by introspecting type hints (about 1 ms each), and an app publishes
# some 600 of them: most are the same few (the problem answers, a model's reference). ``decorate`` fills
# the route's operation with definitions built once per process, as sanic-ext's ``openapi.definition``
# would build them (``Response.make``, ``RequestBody.make``, ``Parameter.make``) on every call, so the next
# app (every test makes one) costs nothing here. Safe to share: the document builder only reads them, and
# the schemas they refer to are registered once per process by sanic-ext's specification builder (a
# singleton that is never reset). The published document is the same (a test compares two apps' documents).
@functools.cache
def _response(status: int, content_type: str, model: type[Any] | None, description: str) -> Any:
    return openapi.definitions.Response.make({content_type: _component(model)} if model else {},
                                             description=description)


def _component(model: type[Any]) -> Any:
    """sanic-ext's reference to ``model``'s schema. A dataclass is registered here first, under its title,
    from the same OpenAPI 3.0 generator as an :class:`ApiModel`: sanic-ext would read its fields itself,
    in another dialect (no ``nullable``) and without the title's name."""
    if issubclass(model, ApiModel):
        return Component(model)
    schema = json_schema(model, ref_template="#/components/schemas/{model}")
    spec = SpecificationBuilder()
    for name, definition in schema.pop("$defs", {}).items():
        spec.add_component("schemas", name, definition)
    spec.add_component("schemas", schema["title"], schema)
    return Component(model, name=schema["title"])


@functools.cache
def _request_body(model: type[ApiModel], required: bool) -> Any:
    return openapi.definitions.RequestBody.make({"application/json": Component(model)}, required=required,
                                                description=None)


_parameters: dict[str, Any] = {}


def _parameter(spec: dict[str, Any]) -> Any:
    """A parameter's definition from its ``@endpoint(query=...)`` entry, built once per distinct entry
    (through the same ``Parameter`` fields as ``openapi.definition``)."""
    key = repr(sorted((k, v.fields if isinstance(v, Schema) else v) for k, v in spec.items()))
    made = _parameters.get(key)
    if made is None:
        fields = openapi.definitions.Parameter(**spec).fields
        fields["location"] = fields.pop("in")
        made = _parameters[key] = openapi.definitions.Parameter.make(**fields)
    return made
