"""Structured logs: one JSON object per line (or plain text for a developer's terminal).

The request id set by the HTTP glue travels in a context variable, so every line written while
handling a request — including from the use case's worker thread — carries it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.config
import sys
import time
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_config(level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the app's and Sanic's loggers: one stream, one format."""
    text = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    formatter = {"()": JsonFormatter} if fmt == "json" else text
    names = ("ecommerce", "sanic.root", "sanic.error", "sanic.server", "sanic.access", "sanic.websockets")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"app": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "app", "stream": sys.stderr}},
        "loggers": {name: {"level": level, "handlers": ["stderr"], "propagate": False} for name in names},
    }


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Apply :func:`log_config` (Sanic applies the same dict itself when it builds the app)."""
    logging.config.dictConfig(log_config(level, fmt))
