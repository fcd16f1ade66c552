"""Scrubbing of secret settings from everything FlashMM prints: log lines (tracebacks included), the
one-line CLI errors and the --debug tracebacks.

`register_settings` collects every `SecretStr` of the settings (nested sections and dicts of them), plus
the password part of secret URLs, and `scrub` replaces each occurrence by `***`. Values shorter than
`MIN_SECRET_CHARS` are not scrubbed (replacing them would mangle ordinary text); settings validation is
the place to refuse such weak secrets. The scrubbing formatter wraps the handlers' own formatters, so it
sees the final text, exception and stack included, in text and JSON form alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, SecretStr

from flashmm_engine.telemetry.redact import MASK

MIN_SECRET_CHARS = 4

_secrets: tuple[str, ...] = ()


def secret_values(settings: BaseModel) -> set[str]:
    """Every secret a settings object holds, and the decoded and encoded password of each secret URL."""
    found: set[str] = set()
    for value in _walk(settings):
        text = value.get_secret_value()
        found.add(text)
        if "://" in text:
            try:
                password = urlsplit(text).password
            except ValueError:
                continue
            if password:
                found.update((password, unquote(password)))
    return {s for s in found if len(s) >= MIN_SECRET_CHARS}


def _walk(value: Any) -> Iterator[SecretStr]:
    if isinstance(value, SecretStr):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _walk(item)


def register_secrets(values: Iterable[str]) -> None:
    """Add secrets to scrub (longest first, so one secret containing another is masked whole)."""
    global _secrets
    merged = set(_secrets) | {v for v in values if len(v) >= MIN_SECRET_CHARS}
    _secrets = tuple(sorted(merged, key=len, reverse=True))


def register_settings(settings: BaseModel) -> None:
    register_secrets(secret_values(settings))


def scrub(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


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
