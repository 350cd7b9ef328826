"""JSON both ways for facade calls: arguments, results (frozen DTOs) and exceptions.

Why self-describing (``{"$dt": ...}``, ``{"$dc": "pkg.mod:Class", ...}``) rather than driven by type hints:
a DTO or an exception arrives as the *same* class with the *same* attribute types (``dict[int, ...]``
keys stay ints, tuples stay tuples) without every facade spelling its types twice. Only classes of the
``ecommerce`` package are ever rebuilt, and only dataclasses or :class:`AppError` subclasses: a payload
cannot make the receiver import or construct anything else.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
from typing import Any

from ecommerce.kernel.errors import AppError, FieldError

PACKAGE = "ecommerce."


class CodecError(ValueError):
    """A payload names something the codec refuses to build."""


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$d": value.isoformat()}
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"$dc": _name(type(value)),
                "fields": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise CodecError(f"cannot send a {type(value).__name__} to another service")


def decode(data: Any) -> Any:
    """The value :func:`encode` made."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$dt" in data:
        return datetime.datetime.fromisoformat(data["$dt"])
    if "$d" in data:
        return datetime.date.fromisoformat(data["$d"])
    if "$t" in data:
        return tuple(decode(v) for v in data["$t"])
    if "$map" in data:
        return {decode(k): decode(v) for k, v in data["$map"]}
    if "$dc" in data:
        cls: Any = _class(data["$dc"])
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise CodecError(f"{data['$dc']} is not a dataclass")
        return cls(**{k: decode(v) for k, v in data["fields"].items()})
    return {k: decode(v) for k, v in data.items()}


def encode_error(error: AppError) -> dict[str, Any]:
    """An expected error with its attributes (``short`` of ``InsufficientStock``, ``errors``...)."""
    attributes = {k: encode(v) for k, v in vars(error).items() if not k.startswith("_")}
    return {"class": _name(type(error)), "detail": error.detail, "attributes": attributes}


def decode_error(data: dict[str, Any]) -> AppError:
    """The same exception class as the one raised remotely, with the same attributes."""
    cls = _class(str(data["class"]))
    if not (isinstance(cls, type) and issubclass(cls, AppError)):
        raise CodecError(f"{data['class']} is not an application error")
    error = cls.__new__(cls)
    Exception.__init__(error, data["detail"])
    for key, value in dict(data.get("attributes", {})).items():
        setattr(error, key, decode(value))
    error.errors = [e if isinstance(e, FieldError) else FieldError(**e) for e in getattr(error, "errors", [])]
    return error


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    if not (module_name + ".").startswith(PACKAGE) or not qualname or "<" in qualname:
        raise CodecError(f"refusing to build {name!r}: only classes of the ecommerce package")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise CodecError(f"unknown class {name!r}") from None
    return found
