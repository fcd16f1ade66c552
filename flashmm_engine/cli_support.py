"""What every `flashmm` command shares: settings + logging at start, the JSON printer, option types."""

from __future__ import annotations

import errno
import logging
import math
import sys
from decimal import Decimal
from typing import Any

import click
import orjson

from flashmm_engine.config.scrub import register_settings, scrub_log_handlers
from flashmm_engine.config.settings import Settings, load_settings
from flashmm_engine.errors import CommandFailed
from flashmm_engine.telemetry.logs import configure_logging
from flashmm_engine.telemetry.redact import redact_url

log = logging.getLogger(__name__)

FLOAT_DIGITS = 12
"""Significant digits of a float in command output: enough for every measured value, few enough to drop
binary noise (917.0125600000001 prints as 917.01256, 0.1 + 0.2 as 0.3)."""

PORT = click.IntRange(0, 65535)
"""A TCP port option; 0 = any free port."""


class _NonNegativeDecimal(click.ParamType[Decimal]):
    name = "decimal"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            self.fail(f"{value!r} is not a decimal number", param, ctx)
        if not number.is_finite() or number < 0:
            self.fail(f"{value!r} must be a finite number >= 0", param, ctx)
        return number


DECIMAL = _NonNegativeDecimal()
"""A finite decimal option >= 0, kept exact (no float)."""


def start_command() -> Settings:
    """Load and validate settings (a bad one ends the command with one line), then set up logging."""
    settings = load_settings()
    configure_logging(settings.telemetry.log_level, settings.telemetry.log_json)
    register_settings(settings)
    scrub_log_handlers()
    log.debug(
        "data home %s, SQL store %s, redis %s",
        settings.data_home,
        redact_url(settings.database.url),
        redact_url(settings.redis.url),
    )
    return settings


def round_floats(value: Any, digits: int = FLOAT_DIGITS) -> Any:
    """`value` with every float rounded to `digits` significant digits; ints and strings untouched."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [round_floats(v, digits) for v in value]
    return value


def emit(payload: dict[str, Any]) -> None:
    """Print a command's result: one JSON object on one stdout line, floats without binary noise."""
    sys.stdout.write(orjson.dumps(round_floats(payload), option=orjson.OPT_SERIALIZE_NUMPY).decode() + "\n")
    sys.stdout.flush()


def listen_failed(what: str, host: str, port: int, exc: OSError) -> CommandFailed:
    """The one-line error of a server that cannot bind its port."""
    reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
    return CommandFailed(f"{what} cannot listen on {host}:{port}: {reason}")
