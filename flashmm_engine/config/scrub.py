"""Scrubbing of secret settings from everything the CLI prints: log lines (tracebacks included), the
one-line errors and the --debug tracebacks.

`register_settings` hands every `SecretStr` of the settings to one `telemetry.redact.SecretScrubber` (the
scrubber Sentry and InfluxDB use too): each secret, the key and password parts of secret URLs, and the
password of any URL in the text are masked. The scrubbing formatter wraps the handlers' own formatters, so
it sees the final text, exception and stack included, in text and JSON form alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pydantic import BaseModel

from flashmm_engine.telemetry.redact import SecretScrubber, secret_values

_registered: set[str] = set()
_scrubber = SecretScrubber(())


def register_secrets(values: Iterable[str]) -> None:
    global _scrubber
    _registered.update(values)
    _scrubber = SecretScrubber(_registered)


def register_settings(settings: BaseModel) -> None:
    register_secrets(secret_values(settings))


def scrub(text: str) -> str:
    return _scrubber.scrub_text(text)


class ScrubbingFormatter(logging.Formatter):
    """Formats with the wrapped formatter, then masks every registered secret in the result."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return scrub(self.inner.format(record))


def scrub_log_handlers(logger: logging.Logger | None = None) -> None:
    """Wrap the formatter of every handler of `logger` (the root by default) once."""
    for handler in (logger or logging.getLogger()).handlers:
        inner = handler.formatter or logging.Formatter()
        if not isinstance(inner, ScrubbingFormatter):
            handler.setFormatter(ScrubbingFormatter(inner))
