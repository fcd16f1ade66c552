"""The Redis stream `flashmm:models`: `model promote|rollback` append the new production version to it,
and the engine's consumer group reads it (engine/reload/stream.py). The registry row stays the truth;
a message only tells engines to look now instead of at their next registry poll."""

from __future__ import annotations

import logging

from flashmm_engine.models.registry import ModelVersion

log = logging.getLogger(__name__)

FIELDS = ("name", "version", "path", "sha256")
NOTIFY_TIMEOUT_S = 2.0


def message_of(version: ModelVersion) -> dict[str, str]:
    return {"name": version.name, "version": version.version, "path": version.path, "sha256": version.sha256}


def parse_message(fields: dict[bytes, bytes]) -> dict[str, str] | None:
    """The message's fields, or None when one is missing (a foreign or malformed entry)."""
    decoded = {key.decode(errors="replace"): value.decode(errors="replace") for key, value in fields.items()}
    if any(not decoded.get(field) for field in FIELDS):
        return None
    return {field: decoded[field] for field in FIELDS}


def publish(redis_url: str, stream: str, maxlen: int, version: ModelVersion) -> str | None:
    """XADD the version; returns the entry id, or None (logged) when Redis cannot be reached."""
    import redis

    client = redis.Redis.from_url(
        redis_url, socket_timeout=NOTIFY_TIMEOUT_S, socket_connect_timeout=NOTIFY_TIMEOUT_S
    )
    try:
        entry = client.xadd(stream, message_of(version), maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
    except (redis.RedisError, OSError) as exc:
        log.warning(
            "model %s/%s: not announced on Redis (%s); engines pick it up at their next registry poll",
            version.name,
            version.version,
            type(exc).__name__,
        )
        return None
    finally:
        client.close()
    return entry.decode() if isinstance(entry, bytes) else str(entry)
