"""Masking of secrets inside URLs and DSNs before they reach a log line, an error or a status page."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr

MASK = "***"
_PASSWORD = re.compile(r"^([^:/?#]+://[^:@/?#]*):[^@/?#]*@")
_SECRET_QUERY_KEYS = frozenset({"password", "pass", "pwd", "token", "secret", "key", "api_key", "apikey"})


def redact_url(url: str | SecretStr | None) -> str:
    """The URL with its password (and any password-like query parameter) replaced by `***`.

    `postgresql+psycopg://trader:s3cret@db:5432/flashmm` -> `postgresql+psycopg://trader:***@db:5432/flashmm`.
    A value that is not URL-shaped comes back fully masked, since it may be a secret itself.
    """
    if url is None:
        return "unset"
    text = url.get_secret_value() if isinstance(url, SecretStr) else url
    if "://" not in text:
        return MASK
    text = _PASSWORD.sub(rf"\1:{MASK}@", text, count=1)
    try:
        parts = urlsplit(text)
    except ValueError:
        return MASK
    if not parts.query:
        return text
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&"))
    return urlunsplit(parts._replace(query=query))


def _redact_pair(pair: str) -> str:
    key, sep, _ = pair.partition("=")
    return f"{key}={MASK}" if sep and key.lower() in _SECRET_QUERY_KEYS else pair


SECRET_KEY_WORDS = (
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "mnemonic",
    "dsn",
    "authorization",
    "auth",
)
"""A mapping entry whose key contains one of these words is masked whatever its value."""
MIN_SECRET_CHARS = 4
"""Shorter values are not searched for inside text: they would mask ordinary words and numbers."""
_URL_IN_TEXT = re.compile(r"[a-z][a-z0-9+.\-]*://[^\s'\"<>]+", re.IGNORECASE)


class SecretScrubber:
    """Masks known secret values wherever they appear in text or nested data, the password of every URL in
    text, and every entry whose key names a secret (`api_key`, `token`, `mnemonic`, `dsn`, ...)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {s for s in secrets if len(s) >= MIN_SECRET_CHARS}
        for value in list(values):
            values.update(_parts(value))
        # longest first, so a secret containing another is masked whole
        self.secrets = tuple(sorted(values, key=len, reverse=True))

    def scrub_text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)) if "@" in m.group(0) else m.group(0), text)

    def scrub(self, value: Any, key: str | None = None) -> Any:
        if key is not None and _names_secret(key):
            return MASK if value not in (None, "", [], {}) else value
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {k: self.scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value


def _names_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_KEY_WORDS)


def _parts(secret: str) -> set[str]:
    """Pieces of a URL-shaped secret that are secret on their own: a URL's password, or, in a URL with no
    password (a Sentry DSN), the user part, which is the key. A user name beside a password is not secret:
    masking it would mangle ordinary words ("postgres" in "postgresql")."""
    if "://" not in secret:
        return set()
    try:
        parts = urlsplit(secret)
    except ValueError:
        return set()
    secret_part = parts.password or parts.username
    return {secret_part} if secret_part and len(secret_part) >= MIN_SECRET_CHARS else set()


def secret_values(model: BaseModel) -> list[str]:
    """Every SecretStr value anywhere in a settings tree (nested models, dicts and lists of them); the
    scrubber masks each, and the user and password parts of the URLs among them."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item)

    walk(model)
    return found
