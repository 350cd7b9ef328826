"""Input every route shares, checked once before any handler runs: path ids and JSON nesting.

Why a request middleware: it runs after routing (the path parameters are known) and after Sanic has
read the body, but before the handler, its decorators (idempotency fingerprints) and any parser, so a
new route is covered without doing anything.

- A path parameter typed ``int`` is an id. Outside ``1..MAX_ID`` it names nothing that can exist:
  404, the same answer as for an id that is not there (and as the router gives ``/products/abc``),
  before the database could overflow on it. The answer comes before authentication: it reveals nothing.
- A body nested deeper than ``MAX_JSON_DEPTH`` is a 400 before anything parses it (see
  :func:`ecommerce.kernel.limits.json_depth_exceeded`).
"""

from __future__ import annotations

import functools
from typing import Any

from sanic import Request, Sanic
from sanic_ext.extensions.openapi.builders import OperationStore
from sanic_ext.extensions.openapi.definitions import Parameter
from sanic_ext.extensions.openapi.types import Integer

from ecommerce.kernel.errors import FieldError, NotFound, ValidationFailed
from ecommerce.kernel.limits import MAX_ID, MAX_JSON_DEPTH, json_depth_exceeded

#: How an id path parameter appears in OpenAPI.
PATH_ID = {"minimum": 1, "maximum": MAX_ID}


async def guard_input(request: Request) -> None:
    for value in request.match_info.values():
        if type(value) is int and not 1 <= value <= MAX_ID:
            raise NotFound(f"No such resource: ids are from 1 to {MAX_ID}.")
    if request.body and json_depth_exceeded(request.body):
        raise ValidationFailed(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.",
                               errors=[FieldError("body", f"At most {MAX_JSON_DEPTH} levels of arrays and objects")])


def document_path_ids(app: Sanic) -> None:
    """Give every ``int`` path parameter its range in the OpenAPI document (sanic-ext would say only
    ``integer``): a parameter declared on the operation replaces the one sanic-ext derives from the route."""
    store = OperationStore()
    for route in app.router.routes:
        ids = [param.name for param in route.params.values() if param.cast is int]
        if not ids or route.handler not in store:
            continue
        operation = store[route.handler]
        declared = {parameter.fields["name"] for parameter in operation.parameters}
        operation.parameters.extend(_path_id(name) for name in ids if name not in declared)


@functools.cache
def _path_id(name: str) -> Parameter:
    """An id path parameter's definition, built once per name and process (introspecting its schema costs
    about a millisecond, and every app of a test run starts with some fifty of them)."""
    schema: Any = Integer(**PATH_ID)  # sanic-ext types it ``type``, and takes a schema as well
    return Parameter.make(name, schema, "path", required=True, description=f"An id (1..{MAX_ID})")


def install(app: Sanic) -> None:
    # After the request id and the per-IP throttle (priority 100): refused input still counts.
    app.register_middleware(guard_input, "request", priority=90)

    # Before sanic-ext builds the document (its listener has priority -1000).
    app.register_listener(document_path_ids, "before_server_start", priority=100)
