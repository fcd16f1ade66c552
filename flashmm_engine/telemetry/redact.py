"""Masking of secrets inside URLs and DSNs before they reach a log line, an error or a status page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

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
