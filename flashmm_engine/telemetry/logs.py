"""Structured logging: key=value text for people, one JSON object per line for machines."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": record.created,
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update(_extras(record))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(payload, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        return f"{base} {extras}" if extras else base


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


QUIET_LIBRARIES: dict[str, int] = {
    # chatty at INFO: every migration step, every HTTP request with its headers
    "alembic": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "aiohttp.server": logging.WARNING,
    "aiohttp.web": logging.WARNING,
    # at DEBUG numba logs every bytecode and SSA step of its JIT compilation: minutes on the first cycle
    "numba": logging.WARNING,
    # at DEBUG these log every frame, API keys in auth messages included: never below INFO
    "websockets": logging.INFO,
    "websockets.client": logging.INFO,
    "websockets.server": logging.INFO,
}
"""Third-party loggers and the lowest level they run at, whatever the root level."""


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    """Log to stderr, keeping stdout free for the JSON results that commands print.

    Third-party loggers listed in QUIET_LIBRARIES stay at their floor level even when the root is DEBUG;
    the websockets loggers are never allowed below INFO, since their DEBUG lines hold whole frames."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, floor in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(floor)
