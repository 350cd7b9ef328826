"""Parse and validate a JSON body with a pydantic model; any problem becomes a 400 with field errors."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sanic import Request
from sanic.exceptions import BadRequest

from ecommerce.kernel.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def field_errors(error: ValidationError) -> list[FieldError]:
    out = []
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"]) or "body"
        message = str(item["msg"])
        out.append(FieldError(path, message))
    return out


def _nul_field(data: Any, path: str = "") -> str | None:
    """The first field holding a NUL character: PostgreSQL cannot store one, and no real input has it."""
    if isinstance(data, str):
        return path or "body" if "\x00" in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            found = _nul_field(key, path) or _nul_field(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(data, list):
        for index, value in enumerate(data):
            found = _nul_field(value, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def _refuse_nul(data: Any) -> None:
    field = _nul_field(data)
    if field is not None:
        raise ValidationFailed("Text must not contain NUL characters.", errors=[FieldError(field, "Contains NUL.")])


def parse_body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``; raises :class:`ValidationFailed` otherwise."""
    try:
        data: Any = request.json
    except BadRequest:
        raise ValidationFailed("The request body is not valid JSON.") from None
    if data is None:
        raise ValidationFailed("A JSON request body is required.", errors=[FieldError("body", "Field required")])
    if not isinstance(data, dict):
        raise ValidationFailed(
            "The request body must be a JSON object.", errors=[FieldError("body", "Expected an object")]
        )
    _refuse_nul(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The request body is invalid.", errors=field_errors(exc)) from None


def query_args(request: Request) -> dict[str, str]:
    """The query string, first value of each name, blank values kept.

    Why keep them: Sanic's ``request.args`` drops ``?min_price=``, so an empty value the contract calls
    invalid (an integer, an enum) was silently read as "not sent"; now it is validated like any other.
    """
    return {key: values[0] for key, values in request.get_args(keep_blank_values=True).items()}


def parse_query(request: Request, model: type[M]) -> M:
    """Query-string arguments (first value of each, blank values kept) as ``model``."""
    data = query_args(request)
    _refuse_nul(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The query string is invalid.", errors=field_errors(exc)) from None
